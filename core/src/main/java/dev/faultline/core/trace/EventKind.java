package dev.faultline.core.trace;

/**
 * What a trace row records (the {@code kind} column). The first six are events; the last three
 * appear only in summary files (a passive capture with {@code --detail summary}) and stand for
 * many events each, with the summary columns ({@link TraceSchema#COUNT} …) filled. New kinds are
 * appended, so the dictionary index of an older file's kinds does not change.
 */
public enum EventKind {
    /** A fault message the handler read, with the ioctl that resolved it. */
    PAGEFAULT,
    /** An ioctl no fault asked for: a prefetch or a background push. */
    RESOLVE,
    /** The process forked while regions were registered. */
    FORK,
    /** A registered range moved (mremap). */
    REMAP,
    /** Pages of a registered range were dropped (madvise). */
    REMOVE,
    /** A registered range was unmapped. */
    UNMAP,
    /**
     * Summary: the faults of one region resolved by one ioctl during one interval ({@code t_read}
     * to {@code t_resolve_end}): their count and their latency, queue and service histograms.
     */
    FAULT_HISTOGRAM,
    /** Summary: ioctls no fault waited on, of one region and kind, in one interval: count and bytes covered. */
    RESOLVE_COUNT,
    /** Summary: one faulting thread ({@code tid}) over the whole capture: its faults and the time it was blocked on them. */
    THREAD_BLOCKED;

    /** Whether rows of this kind stand for many events (summary files). */
    public boolean isSummary() {
        return ordinal() >= FAULT_HISTOGRAM.ordinal();
    }
}
