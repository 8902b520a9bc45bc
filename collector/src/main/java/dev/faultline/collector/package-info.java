/**
 * The collector: a recording Java userfaultfd handler library, built-in fault workloads, and
 * passive capture of other processes' handlers. Everything it records is a trace/1 file
 * ({@link dev.faultline.core.trace.TraceWriter}).
 */
package dev.faultline.collector;
