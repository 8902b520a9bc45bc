package dev.faultline.collector.record;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The faulting side's timings of one region, per page: when a thread of ours began its first
 * touch of the page ({@code t_fault}) and when that touch returned ({@code t_wake}). The handler
 * cannot see these; the trace writer joins them to the page's fault row.
 *
 * <p>Each page is timed at most once, by the one thread that touches it first: {@link #record}
 * writes t_fault then publishes t_wake with release semantics, {@link #wake} reads it with
 * acquire, so a non-zero t_wake means t_fault is valid too. 0 means "not yet".
 */
public final class TouchClock {
    private static final VarHandle SLOT = MethodHandles.arrayElementVarHandle(long[].class);

    private final long pageSize;
    private final long[] fault;
    private final long[] wake;

    /** A clock for a region of {@code pages} pages of {@code pageSize} bytes. */
    public TouchClock(long pages, long pageSize) {
        this.pageSize = pageSize;
        this.fault = new long[Math.toIntExact(pages)];
        this.wake = new long[Math.toIntExact(pages)];
    }

    /** Whether page {@code page} has been timed already. */
    public boolean timed(int page) {
        return (long) SLOT.getAcquire(wake, page) != 0;
    }

    /** Records the first touch of {@code page}: began at {@code tFault}, returned at {@code tWake}. */
    public void record(int page, long tFault, long tWake) {
        fault[page] = tFault;
        SLOT.setRelease(wake, page, tWake);
    }

    /** t_wake of the page holding region offset {@code offset}, 0 if not timed (yet). */
    public long wake(long offset) {
        return (long) SLOT.getAcquire(wake, (int) (offset / pageSize));
    }

    /** t_fault of the page holding {@code offset}; valid once {@link #wake} is non-zero. */
    public long fault(long offset) {
        return fault[(int) (offset / pageSize)];
    }

    /** Pages in the region. */
    public int pages() {
        return fault.length;
    }

    /** t_wake - t_fault of page {@code page}, or -1 if it was not timed. */
    public long latency(int page) {
        long w = (long) SLOT.getAcquire(wake, page);
        return w == 0 ? -1 : w - fault[page];
    }
}
