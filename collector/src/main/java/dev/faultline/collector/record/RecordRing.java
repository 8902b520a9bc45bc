package dev.faultline.collector.record;

import dev.faultline.core.trace.EventKind;
import dev.faultline.core.trace.TraceEvent;
import dev.faultline.core.uffd.ResolveIoctl;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A bounded single-producer, single-consumer ring of trace rows, held in one {@code long[]}: the
 * hand-off from a handler thread to the trace writer thread.
 *
 * <p>The producer never blocks: {@link #offer} copies the row into the next free slot, or, when
 * the ring is full, drops it and counts it in {@link #dropped()}. Neither side allocates. Exactly
 * one thread may offer and one (other) thread may peek/advance; they synchronize through the
 * release/acquire of {@code tail} (rows published) and {@code head} (slots freed).
 */
public final class RecordRing {
    /** Default capacity: 64Ki rows (8 MiB) per handler thread, a second at 64k faults/s. */
    public static final int DEFAULT_CAPACITY = 64 * 1024;
    private static final int STRIDE = 16; // longs per slot
    private static final int SEQ = 0, CODES = 1, OFFSET = 2, ADDRESS = 3, FLAGS_TID = 4, RES_OFFSET = 5,
            RES_LENGTH = 6, RESULT = 7, T_FAULT = 8, T_READ = 9, T_START = 10, T_END = 11, T_WAKE = 12, RES_MODE = 13;
    private static final EventKind[] KINDS = EventKind.values();
    private static final ResolveIoctl[] IOCTLS = ResolveIoctl.values();
    private static final VarHandle HEAD;
    private static final VarHandle TAIL;
    private static final VarHandle DROPPED;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            HEAD = l.findVarHandle(RecordRing.class, "head", long.class);
            TAIL = l.findVarHandle(RecordRing.class, "tail", long.class);
            DROPPED = l.findVarHandle(RecordRing.class, "dropped", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final long[] slots;
    private final int mask;
    // head and tail on their own cache lines: the two threads write one each
    private long p0, p1, p2, p3, p4, p5, p6;
    private long head;
    private long q0, q1, q2, q3, q4, q5, q6;
    private long tail;
    private long cachedHead;
    private long dropped;
    private long r0, r1, r2, r3, r4, r5, r6;

    /** A ring of {@code capacity} rows, rounded up to a power of two (at least 2). */
    public RecordRing(int capacity) {
        int c = Integer.highestOneBit(Math.max(2, capacity - 1)) << 1;
        if (c <= 0 || (long) c * STRIDE > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("ring capacity " + capacity + " is too large");
        }
        slots = new long[c * STRIDE];
        mask = c - 1;
    }

    /** Rows the ring holds at most. */
    public int capacity() {
        return mask + 1;
    }

    /** Producer: copies {@code e} in; false (and counted as dropped) if the ring is full. */
    public boolean offer(TraceEvent e) {
        long t = tail;
        if (t - cachedHead > mask) {
            cachedHead = (long) HEAD.getAcquire(this);
            if (t - cachedHead > mask) {
                DROPPED.setRelease(this, dropped + 1);
                return false;
            }
        }
        int i = (int) (t & mask) * STRIDE;
        long[] s = slots;
        s[i + SEQ] = e.seq;
        s[i + CODES] = ((long) e.region << 16) | ((long) e.ioctl.ordinal() << 8) | e.kind.ordinal();
        s[i + OFFSET] = e.offset;
        s[i + ADDRESS] = e.address;
        s[i + FLAGS_TID] = ((long) e.flags << 32) | (e.tid & 0xffffffffL);
        s[i + RES_OFFSET] = e.resolveOffset;
        s[i + RES_LENGTH] = e.resolveLength;
        s[i + RESULT] = e.result;
        s[i + T_FAULT] = e.tFault;
        s[i + T_READ] = e.tRead;
        s[i + T_START] = e.tResolveStart;
        s[i + T_END] = e.tResolveEnd;
        s[i + T_WAKE] = e.tWake;
        s[i + RES_MODE] = e.resolveMode;
        TAIL.setRelease(this, t + 1);
        return true;
    }

    /** Consumer: copies the oldest row into {@code e} without removing it; false if the ring is empty. */
    public boolean peek(TraceEvent e) {
        long h = head;
        if (h == (long) TAIL.getAcquire(this)) {
            return false;
        }
        int i = (int) (h & mask) * STRIDE;
        long[] s = slots;
        e.seq = s[i + SEQ];
        long codes = s[i + CODES];
        e.kind = KINDS[(int) (codes & 0xff)];
        e.ioctl = IOCTLS[(int) ((codes >>> 8) & 0xff)];
        e.region = (int) (codes >>> 16);
        e.offset = s[i + OFFSET];
        e.address = s[i + ADDRESS];
        e.flags = (int) (s[i + FLAGS_TID] >>> 32);
        e.tid = (int) s[i + FLAGS_TID];
        e.resolveOffset = s[i + RES_OFFSET];
        e.resolveLength = s[i + RES_LENGTH];
        e.result = (int) s[i + RESULT];
        e.tFault = s[i + T_FAULT];
        e.tRead = s[i + T_READ];
        e.tResolveStart = s[i + T_START];
        e.tResolveEnd = s[i + T_END];
        e.tWake = s[i + T_WAKE];
        e.resolveMode = (int) s[i + RES_MODE];
        return true;
    }

    /** Consumer: removes the row {@link #peek} returned. */
    public void advance() {
        HEAD.setRelease(this, head + 1);
    }

    /** Rows waiting for the consumer. */
    public long size() {
        return (long) TAIL.getAcquire(this) - (long) HEAD.getAcquire(this);
    }

    /** Rows dropped because the ring was full (any thread may read it). */
    public long dropped() {
        return (long) DROPPED.getAcquire(this);
    }
}
