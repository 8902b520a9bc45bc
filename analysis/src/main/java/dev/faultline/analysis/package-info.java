/**
 * The analyzer: latency histograms per ioctl, page size and backend, comparisons with a
 * regression verdict, charts and the HTML report.
 */
package dev.faultline.analysis;
