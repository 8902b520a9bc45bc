package dev.faultline.collector.record;

import dev.faultline.core.region.PageIndex;

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
 *
 * <p>A dense clock has a slot per page of the region; a {@link #sparse} one has slots only for
 * the pages a replay will touch (found through a {@link PageIndex}), so a huge region with a small
 * working set costs memory in proportion to the working set. Pages without a slot are never
 * timed. No method allocates.
 */
public final class TouchClock {
    private static final VarHandle SLOT = MethodHandles.arrayElementVarHandle(long[].class);

    private final long pageSize;
    private final PageIndex pages; // the slots of a sparse clock's pages, null for a dense one
    private final long[] fault;
    private final long[] wake;

    /** A dense clock for a region of {@code pages} pages of {@code pageSize} bytes. */
    public TouchClock(long pages, long pageSize) {
        this.pageSize = pageSize;
        this.pages = null;
        this.fault = new long[Math.toIntExact(pages)];
        this.wake = new long[Math.toIntExact(pages)];
    }

    private TouchClock(long[] sortedPages, long pageSize) {
        this.pageSize = pageSize;
        this.pages = new PageIndex(sortedPages.clone());
        this.fault = new long[sortedPages.length];
        this.wake = new long[sortedPages.length];
    }

    /** A clock with slots only for {@code sortedPages} (ascending page indices) of {@code pageSize} bytes. */
    public static TouchClock sparse(long[] sortedPages, long pageSize) {
        return new TouchClock(sortedPages, pageSize);
    }

    private int slot(long page) {
        if (pages == null) {
            return page >= 0 && page < fault.length ? (int) page : -1;
        }
        return pages.find(page);
    }

    /** Whether page {@code page} has been timed already (true for a page without a slot: it is never timed). */
    public boolean timed(int page) {
        int i = slot(page);
        return i < 0 || (long) SLOT.getAcquire(wake, i) != 0;
    }

    /** Records the first touch of {@code page}: began at {@code tFault}, returned at {@code tWake}. */
    public void record(int page, long tFault, long tWake) {
        int i = slot(page);
        if (i >= 0) {
            fault[i] = tFault;
            SLOT.setRelease(wake, i, tWake);
        }
    }

    /** t_wake of the page holding region offset {@code offset}, 0 if not timed (yet). */
    public long wake(long offset) {
        int i = slot(offset / pageSize);
        return i < 0 ? 0 : (long) SLOT.getAcquire(wake, i);
    }

    /** t_fault of the page holding {@code offset}; valid once {@link #wake} is non-zero. */
    public long fault(long offset) {
        int i = slot(offset / pageSize);
        return i < 0 ? 0 : fault[i];
    }

    /** Slots: pages in the region (dense) or pages listed (sparse). */
    public int pages() {
        return fault.length;
    }

    /** t_wake - t_fault of slot {@code slot}, or -1 if it was not timed. */
    public long latency(int slot) {
        long w = (long) SLOT.getAcquire(wake, slot);
        return w == 0 ? -1 : w - fault[slot];
    }
}
