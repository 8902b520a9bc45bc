package dev.faultline.collector.workload;

import org.HdrHistogram.Histogram;

import java.nio.file.Path;

/**
 * What a workload run did and measured.
 *
 * @param file        the trace written, or null when recording was off
 * @param faults      faults the handler resolved
 * @param touches     touches the faulting threads made (repeats included)
 * @param events      rows in the trace
 * @param lost        rows dropped because a handler's ring was full (also in the footer)
 * @param fileBytes   size of the trace
 * @param touchNanos  from the first touch to the last touch returning
 * @param jitNanos    CPU time the JIT compiler threads used meanwhile (a warm JIT's is near 0)
 * @param latency     t_wake - t_fault of every timed first touch, in nanoseconds
 * @param stopped     whether the run was stopped early (Ctrl-C)
 */
public record RecordingSummary(Path file, long faults, long touches, long events, long lost, long fileBytes,
                               long touchNanos, long jitNanos, Histogram latency, boolean stopped) {

    /** Faults per second over the touch phase. */
    public double faultsPerSecond() {
        return touchNanos == 0 ? 0 : faults * 1e9 / touchNanos;
    }
}
