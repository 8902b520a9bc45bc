package dev.faultline.collector.passive;

import java.util.ArrayDeque;
import java.util.function.Consumer;

/**
 * Puts captured events back in time order. The capture program takes a record's time before it
 * reserves the record's place in the ring, so a record from a preempted CPU can come after a
 * younger one from another; linking needs them in the order they happened. Events are held until
 * they are {@link #windowNanos} older than the newest one seen, then released oldest first.
 *
 * <p>They arrive all but sorted, so they are kept in a circular array sorted by insertion from its
 * end: an event is one compare, a late one a few moves (a priority queue's sifting was the
 * largest part of a capture's CPU time). Invariants: events are released in non-decreasing
 * {@link CapturedEvent#time}; an event older than one already released is released at once
 * (counted in {@link #late}); memory is bounded by the events of one window, their objects reused.
 */
public final class EventOrder {
    private final long windowNanos;
    private final Consumer<CapturedEvent> sink;
    private final ArrayDeque<CapturedEvent> free = new ArrayDeque<>();
    private CapturedEvent[] held = new CapturedEvent[1024];
    private int head;
    private int size;
    private long newest = Long.MIN_VALUE;
    private long released = Long.MIN_VALUE;
    private long late;

    /** Orders events into {@code sink} with a window of {@code windowNanos}. */
    public EventOrder(long windowNanos, Consumer<CapturedEvent> sink) {
        this.windowNanos = windowNanos;
        this.sink = sink;
    }

    /** Takes a copy of {@code e} and releases what the window lets go. */
    public void add(CapturedEvent e) {
        if (e.time < released) {
            late++;
            sink.accept(e);
            return;
        }
        if (size == held.length) {
            grow();
        }
        CapturedEvent copy = free.isEmpty() ? new CapturedEvent() : free.pop();
        copy.copyFrom(e);
        int mask = held.length - 1;
        int i = size++;
        // move younger events up one place until copy's place is found (usually none)
        while (i > 0 && held[(head + i - 1) & mask].time > copy.time) {
            held[(head + i) & mask] = held[(head + i - 1) & mask];
            i--;
        }
        held[(head + i) & mask] = copy;
        newest = Math.max(newest, e.time);
        releaseUpTo(newest - windowNanos);
    }

    /** Releases the events at or before {@code time} (the window has passed them with nothing newer arriving). */
    public void release(long time) {
        releaseUpTo(time);
    }

    /** Releases everything held (the capture ended). */
    public void drain() {
        releaseUpTo(Long.MAX_VALUE);
    }

    /** Events that arrived after younger ones had been released (their order may be off). */
    public long late() {
        return late;
    }

    private void releaseUpTo(long time) {
        int mask = held.length - 1;
        while (size > 0 && held[head].time <= time) {
            CapturedEvent e = held[head];
            held[head] = null;
            head = (head + 1) & mask;
            size--;
            released = e.time;
            sink.accept(e);
            free.push(e);
        }
    }

    private void grow() {
        CapturedEvent[] bigger = new CapturedEvent[held.length * 2];
        for (int i = 0; i < size; i++) {
            bigger[i] = held[(head + i) & (held.length - 1)];
        }
        held = bigger;
        head = 0;
    }
}
