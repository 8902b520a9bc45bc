package dev.faultline.core.trace;

import dev.faultline.core.uffd.ResolveIoctl;

/**
 * One trace row, as a mutable holder that writers fill and readers decode into, so that neither
 * allocates per row. Field meanings are those of the trace columns (docs/design.md §3).
 *
 * <p>Times are CLOCK_MONOTONIC nanoseconds; {@link #UNKNOWN} marks a time that was not observed
 * and is written as null. The {@code backend} and {@code page_size} columns are not held here:
 * the writer fills them from the row's region.
 */
public final class TraceEvent {
    /** A time that was not observed (written as null). */
    public static final long UNKNOWN = Long.MIN_VALUE;

    public long seq;
    public EventKind kind = EventKind.PAGEFAULT;
    public int region;
    public long offset;
    public long address;
    public int flags;
    public int tid;
    public ResolveIoctl ioctl = ResolveIoctl.NONE;
    public long resolveOffset;
    public long resolveLength;
    public int result;
    /** The resolving ioctl's mode bits (UFFDIO_COPY_MODE_DONTWAKE …), 0 if none or unknown. */
    public int resolveMode;
    public long tFault = UNKNOWN;
    public long tRead = UNKNOWN;
    public long tResolveStart = UNKNOWN;
    public long tResolveEnd = UNKNOWN;
    public long tWake = UNKNOWN;
    /** The replay run (results files only); -1 when the file has no run column. */
    public int run = -1;
    // summary rows only (EventKind#isSummary): 0 and null on event rows
    /** Events the row stands for. */
    public long count;
    /** Of those, faults whose entry was seen. */
    public long countTimed;
    /** THREAD_BLOCKED: read to resolve, summed (ns). */
    public long totalNanos;
    /** THREAD_BLOCKED: fault entry to resolve, summed over timed faults (ns). */
    public long totalFaultNanos;
    /** FAULT_HISTOGRAM: HdrHistogram compressed encodings, or null. */
    public byte[] histLatency;
    public byte[] histQueue;
    public byte[] histService;
    /** FAULT_HISTOGRAM: end to end and wake, where the rows summed had them (fleet summaries of replays), or null. */
    public byte[] histEndToEnd;
    public byte[] histWake;

    /** Resets every field to its empty value. */
    public TraceEvent clear() {
        seq = 0;
        kind = EventKind.PAGEFAULT;
        region = 0;
        offset = 0;
        address = 0;
        flags = 0;
        tid = 0;
        ioctl = ResolveIoctl.NONE;
        resolveOffset = 0;
        resolveLength = 0;
        result = 0;
        resolveMode = 0;
        tFault = UNKNOWN;
        tRead = UNKNOWN;
        tResolveStart = UNKNOWN;
        tResolveEnd = UNKNOWN;
        tWake = UNKNOWN;
        run = -1;
        count = 0;
        countTimed = 0;
        totalNanos = 0;
        totalFaultNanos = 0;
        histLatency = null;
        histQueue = null;
        histService = null;
        histEndToEnd = null;
        histWake = null;
        return this;
    }

    /** Copies every field of {@code other} into this. */
    public TraceEvent copyFrom(TraceEvent other) {
        seq = other.seq;
        kind = other.kind;
        region = other.region;
        offset = other.offset;
        address = other.address;
        flags = other.flags;
        tid = other.tid;
        ioctl = other.ioctl;
        resolveOffset = other.resolveOffset;
        resolveLength = other.resolveLength;
        result = other.result;
        resolveMode = other.resolveMode;
        tFault = other.tFault;
        tRead = other.tRead;
        tResolveStart = other.tResolveStart;
        tResolveEnd = other.tResolveEnd;
        tWake = other.tWake;
        run = other.run;
        count = other.count;
        countTimed = other.countTimed;
        totalNanos = other.totalNanos;
        totalFaultNanos = other.totalFaultNanos;
        histLatency = other.histLatency;
        histQueue = other.histQueue;
        histService = other.histService;
        histEndToEnd = other.histEndToEnd;
        histWake = other.histWake;
        return this;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TraceEvent e && seq == e.seq && kind == e.kind && region == e.region
                && offset == e.offset && address == e.address && flags == e.flags && tid == e.tid
                && ioctl == e.ioctl && resolveOffset == e.resolveOffset && resolveLength == e.resolveLength
                && result == e.result && resolveMode == e.resolveMode && tFault == e.tFault && tRead == e.tRead
                && tResolveStart == e.tResolveStart && tResolveEnd == e.tResolveEnd && tWake == e.tWake
                && run == e.run && count == e.count && countTimed == e.countTimed && totalNanos == e.totalNanos
                && totalFaultNanos == e.totalFaultNanos && java.util.Arrays.equals(histLatency, e.histLatency)
                && java.util.Arrays.equals(histQueue, e.histQueue) && java.util.Arrays.equals(histService, e.histService)
                && java.util.Arrays.equals(histEndToEnd, e.histEndToEnd) && java.util.Arrays.equals(histWake, e.histWake);
    }

    @Override
    public int hashCode() {
        return Long.hashCode(seq * 31 + offset);
    }

    @Override
    public String toString() {
        return "seq=" + seq + " " + kind + " region=" + region + " offset=0x" + Long.toHexString(offset)
                + " flags=" + flags + " tid=" + tid + " " + ioctl + " result=" + result
                + " t_fault=" + time(tFault) + " t_read=" + time(tRead) + " t_resolve=" + time(tResolveStart)
                + ".." + time(tResolveEnd) + " t_wake=" + time(tWake);
    }

    private static String time(long t) {
        return t == UNKNOWN ? "null" : Long.toString(t);
    }
}
