/** JMH suites: fault round trips per backend and ioctl, replays of the sample traces, and our own hot paths. */
package dev.faultline.bench;
