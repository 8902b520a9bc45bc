/**
 * The replay engine: re-creates a trace's regions on real memory and re-drives its faults with
 * faulting and handler threads, timing every fault. Results are trace/1 files with a run column.
 */
package dev.faultline.replay;
