package dev.faultline.replay;

/**
 * What one replay run did, as counted by the runner (latencies are in the results file).
 *
 * @param run           0-based among the measured runs; negative for unmeasured ones (warm-ups from -1 on, and
 *                      the on-demand run a prefetch is compared with)
 * @param faults        faults the handler resolved
 * @param touches       touches the faulting threads made
 * @param nanos         from the first toucher's start to the last one's end
 * @param jitNanos      CPU time the JIT compiler threads used meanwhile (a warm JIT's is near 0)
 * @param prefetched    ranges installed before the touches (--prefetch working-set), else 0
 * @param prefetchNanos how long installing them took
 * @param pushes        RESOLVE rows re-issued
 * @param lost          rows dropped because a buffer was full
 * @param verified      null without --verify, else "ok" or what differed
 */
public record RunResult(int run, long faults, long touches, long nanos, long jitNanos, long prefetched, long prefetchNanos,
                        long pushes, long lost, String verified) {

    /** Whether this was an unmeasured run (not in the results file). */
    public boolean warmup() {
        return run < 0;
    }

    /** Faults per second over the run's touch phase. */
    public double faultsPerSecond() {
        return nanos > 0 ? faults * 1e9 / nanos : 0;
    }
}
