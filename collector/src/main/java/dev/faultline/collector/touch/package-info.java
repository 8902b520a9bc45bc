/**
 * The faulting side: threads that touch registered memory from native code in a scripted order
 * ({@link dev.faultline.collector.touch.TouchScript}) and time each first touch of a page. Used
 * by the built-in workloads and by replay.
 */
package dev.faultline.collector.touch;
