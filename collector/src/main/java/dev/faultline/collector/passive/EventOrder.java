package dev.faultline.collector.passive;

import java.util.ArrayDeque;
import java.util.PriorityQueue;
import java.util.function.Consumer;

/**
 * Puts captured events back in time order. The capture program takes a record's time before it
 * reserves the record's place in the ring, so a record from a preempted CPU can come after a
 * younger one from another; linking needs them in the order they happened. Events are held until
 * they are {@link #windowNanos} older than the newest one seen, then released oldest first.
 *
 * <p>Invariants: events are released in non-decreasing {@link CapturedEvent#time}; an event that
 * arrives older than one already released is released at once (counted in {@link #late}); memory
 * is bounded by the events of one window, their objects reused.
 */
public final class EventOrder {
    private final long windowNanos;
    private final Consumer<CapturedEvent> sink;
    private final PriorityQueue<CapturedEvent> held =
            new PriorityQueue<>((a, b) -> Long.compare(a.time, b.time));
    private final ArrayDeque<CapturedEvent> free = new ArrayDeque<>();
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
        CapturedEvent copy = free.isEmpty() ? new CapturedEvent() : free.pop();
        copy.copyFrom(e);
        held.add(copy);
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
        while (!held.isEmpty() && held.peek().time <= time) {
            CapturedEvent e = held.poll();
            released = e.time;
            sink.accept(e);
            free.push(e);
        }
    }
}
