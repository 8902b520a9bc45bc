package dev.faultline.core.trace;

/**
 * The latency definitions and the queue / service / wake split of one fault row, computed from its
 * four times: the one place they are written, so that analyze, compare, export and the fleet job
 * give a row the same numbers. Times are CLOCK_MONOTONIC ns or {@link TraceEvent#UNKNOWN}; each
 * method returns {@link TraceEvent#UNKNOWN} when a time it needs is unknown.
 *
 * <p>Invariants: the latencies and service are at least 1 ns (a histogram cannot hold 0, and two
 * reads of one clock can be equal); queue and wake are at least 0 (a wake can precede the
 * handler's return from the ioctl that caused it, docs/trace-format.md). Queue, service and wake
 * are defined only where their sum is too: queue needs t_resolve_end as well, wake needs t_read.
 */
public final class FaultTimes {
    private static final long UNKNOWN = TraceEvent.UNKNOWN;

    private FaultTimes() {
    }

    /** End to end, {@code t_wake - t_fault}: what the faulting thread waited (recordings and replays). */
    public static long endToEnd(long tFault, long tWake) {
        return tFault != UNKNOWN && tWake != UNKNOWN ? Math.max(1, tWake - tFault) : UNKNOWN;
    }

    /** Fault to resolve, {@code t_resolve_end - t_fault}: what a passive capture measures. */
    public static long faultToResolve(long tFault, long tResolveEnd) {
        return tFault != UNKNOWN && tResolveEnd != UNKNOWN ? Math.max(1, tResolveEnd - tFault) : UNKNOWN;
    }

    /** Service, {@code t_resolve_end - t_read}: the handler's read to the resolving ioctl's end. */
    public static long service(long tRead, long tResolveEnd) {
        return tRead != UNKNOWN && tResolveEnd != UNKNOWN ? Math.max(1, tResolveEnd - tRead) : UNKNOWN;
    }

    /** Queue, {@code t_read - t_fault}: the fault waiting to be read; only where service is known too. */
    public static long queue(long tFault, long tRead, long tResolveEnd) {
        return tFault != UNKNOWN && tRead != UNKNOWN && tResolveEnd != UNKNOWN ? Math.max(0, tRead - tFault) : UNKNOWN;
    }

    /** Wake, {@code t_wake - t_resolve_end}: the woken thread getting its CPU back; only where service is known too. */
    public static long wake(long tRead, long tResolveEnd, long tWake) {
        return tWake != UNKNOWN && tResolveEnd != UNKNOWN && tRead != UNKNOWN ? Math.max(0, tWake - tResolveEnd) : UNKNOWN;
    }

    /**
     * The row's latency as analyze reports it: end to end where the row has both ends, else fault to
     * resolve, else service.
     */
    public static long latency(long tFault, long tRead, long tResolveEnd, long tWake) {
        long l = endToEnd(tFault, tWake);
        if (l == UNKNOWN) {
            l = faultToResolve(tFault, tResolveEnd);
        }
        return l != UNKNOWN ? l : service(tRead, tResolveEnd);
    }

    /** When the fault began as far as the row knows: t_fault, else t_read. */
    public static long start(long tFault, long tRead) {
        return tFault != UNKNOWN ? tFault : tRead;
    }

    /** When the fault ended as far as the row knows: t_wake, else t_resolve_end. */
    public static long end(long tResolveEnd, long tWake) {
        return tWake != UNKNOWN ? tWake : tResolveEnd;
    }
}
