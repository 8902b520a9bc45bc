package dev.faultline.replay;

import dev.faultline.collector.handler.PageSource;
import dev.faultline.collector.handler.ResolvePolicy;
import dev.faultline.core.abi.Libc;
import dev.faultline.core.region.Backend;
import dev.faultline.core.region.Region;
import dev.faultline.core.trace.TraceEvent;
import dev.faultline.core.uffd.ResolveIoctl;
import dev.faultline.core.uffd.Userfaultfd;
import dev.faultline.replay.plan.Push;
import dev.faultline.replay.plan.RegionPlan;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.locks.LockSupport;

/**
 * Resolves each fault of a replayed region the way the trace did: the planned ioctl over the
 * planned range ({@link RegionPlan}), after the fault's service delay (fixed, or each fault's own
 * from the trace), with DONTWAKE where the trace had it and then a WAKE of the range (one handler
 * does both, so the fault cannot miss its wake). Content comes from one byte pattern, so
 * {@link #verify} knows what every resolved page must hold.
 *
 * <p>Delegates each ioctl to the collector's own policy for it (their set-up runs before and
 * after registering: the page cache for CONTINUE, write-protection for WP, a staging area for
 * MOVE). A fault the plan does not know (a race the recording did not have) is resolved as a page
 * with the region's main ioctl. The fault path allocates nothing.
 */
public final class TracePolicy extends ResolvePolicy {
    /** The byte every served page is filled with (zero pages aside). */
    public static final int FILL = 0x5a;
    private static final long SPIN_BELOW_NANOS = 100_000;

    private final RegionPlan plan;
    private final ResolvePolicy[] byOp = new ResolvePolicy[ResolveIoctl.values().length];
    private final ResolvePolicy primary;
    private final long delayNanos;
    /**
     * Per planned fault, 1 once the handler has read it: what a push that overtook it waits for;
     * null when no push waits in this region, so the fault path does not look the fault up for it.
     */
    private final AtomicIntegerArray read;

    /**
     * @param source     content for COPY, CONTINUE, WP and MOVE; must serve {@link RegionPlan#maxRangeLength()} bytes
     * @param delayNanos added before every fault's ioctl when the plan has no delays of its own (0: none)
     * @param trackReads whether a push waits for this region's faults to be read ({@link #faultRead})
     */
    public TracePolicy(RegionPlan plan, PageSource source, long delayNanos, boolean trackReads) {
        super(primaryOf(plan), plan.mode(), source);
        this.plan = plan;
        this.delayNanos = delayNanos;
        for (ResolveIoctl op : plan.opsUsed()) {
            byOp[op.ordinal()] = ResolvePolicy.of(op, source);
        }
        this.primary = byOp[ioctl().ordinal()];
        this.read = trackReads ? new AtomicIntegerArray(plan.faults()) : null;
    }

    private static ResolveIoctl primaryOf(RegionPlan plan) {
        ResolveIoctl best = null;
        int most = -1;
        int[] counts = new int[ResolveIoctl.values().length];
        for (int i = 0; i < plan.faults(); i++) {
            counts[plan.op(i).ordinal()]++;
        }
        for (ResolveIoctl op : plan.opsUsed()) {
            if (counts[op.ordinal()] > most) {
                most = counts[op.ordinal()];
                best = op;
            }
        }
        return best;
    }

    @Override
    public long features(Backend backend) {
        long f = 0;
        for (ResolvePolicy p : byOp) {
            if (p != null) {
                f |= p.features(backend);
            }
        }
        return f;
    }

    @Override
    public void beforeRegister(Region region) {
        for (ResolvePolicy p : byOp) {
            if (p != null) {
                p.beforeRegister(region);
            }
        }
    }

    @Override
    public void afterRegister(Userfaultfd uffd, Region region) {
        for (ResolvePolicy p : byOp) {
            if (p != null) {
                p.afterRegister(uffd, region);
            }
        }
    }

    @Override
    public long resolve(Userfaultfd uffd, long page, long offset, long pageSize) {
        return resolve(uffd, page, offset, pageSize, null);
    }

    @Override
    public void serve(long offset, long pageSize) {
        long wait = delayNanos;
        if (read != null || plan.hasDelays()) {
            int i = plan.find(offset / pageSize);
            if (i >= 0 && read != null) {
                read.lazySet(i, 1);
            }
            if (plan.hasDelays()) {
                wait = i < 0 ? 0 : plan.delay(i);
            }
        }
        if (wait > 0) {
            delay(wait);
        }
    }

    /** Whether the handler has read the fault on the planned page at region offset {@code offset} (always false unless tracking reads). */
    public boolean faultRead(long offset) {
        int i = read == null ? -1 : plan.find(offset / plan.pageSize());
        return i >= 0 && read.get(i) != 0;
    }

    @Override
    public long resolve(Userfaultfd uffd, long page, long offset, long pageSize, TraceEvent row) {
        int i = plan.find(offset / pageSize);
        ResolvePolicy p = i < 0 ? primary : byOp[plan.op(i).ordinal()];
        long from = i < 0 ? offset : plan.rangeOffset(i);
        long length = i < 0 ? pageSize : plan.rangeLength(i);
        boolean dontWake = i >= 0 && plan.mode(i) != 0;
        if (row != null) {
            row.ioctl = p.ioctl();
            row.resolveOffset = from;
            row.resolveLength = length;
            row.resolveMode = dontWake ? plan.mode(i) : 0;
        }
        long base = page - offset;
        if (!dontWake) {
            return p.resolve(uffd, base + from, from, length);
        }
        long rc = p.resolve(uffd, base + from, from, length, true);
        uffd.wake(base + from, length);
        return rc;
    }

    private static void delay(long nanos) {
        long until = System.nanoTime() + nanos;
        long left;
        while ((left = until - System.nanoTime()) > 0) {
            if (left > SPIN_BELOW_NANOS) {
                LockSupport.parkNanos(left - SPIN_BELOW_NANOS / 2);
            } else {
                Thread.onSpinWait();
            }
        }
    }

    /** Re-issues a push on the region mapped at {@code base}; returns the ioctl's result (-EEXIST when a fault won). */
    public long push(Userfaultfd uffd, long base, Push push) {
        if (push.op() == ResolveIoctl.WAKE) {
            uffd.wake(base + push.offset(), push.length());
            return 0;
        }
        return byOp[push.op().ordinal()].resolve(uffd, base + push.offset(), push.offset(), push.length(), push.mode() != 0);
    }

    /** Installs every planned range before any touch (the working-set prefetch); returns the ranges installed. */
    public int installAll(Userfaultfd uffd, long base) {
        int n = 0;
        for (int i = 0; i < plan.faults(); i++) {
            long rc = byOp[plan.op(i).ordinal()].resolve(uffd, base + plan.rangeOffset(i), plan.rangeOffset(i), plan.rangeLength(i));
            if (rc >= 0) {
                n++;
            }
        }
        return n;
    }

    /**
     * Checks that every page of every planned range holds what was served (the fill byte, or zeroes
     * for ZEROPAGE; POISONed pages are not readable and are skipped). The first byte of each page
     * is left out: the faulting thread's write touch lands there.
     *
     * @param touched which planned faults were actually touched (index into the plan); others are not checked
     * @return null if all match, else a one-line description of the first page that does not
     */
    public String verify(long base, java.util.function.IntPredicate touched) {
        long page = plan.pageSize();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment filled = arena.allocate(page, 4096).fill((byte) FILL);
            MemorySegment zeroes = arena.allocate(page, 4096);
            long bad = 0;
            String first = null;
            for (int i = 0; i < plan.faults(); i++) {
                ResolveIoctl op = plan.op(i);
                if (op == ResolveIoctl.POISON || !touched.test(i)) {
                    continue;
                }
                MemorySegment want = op == ResolveIoctl.ZEROPAGE ? zeroes : filled;
                for (long off = plan.rangeOffset(i); off < plan.rangeOffset(i) + plan.rangeLength(i); off += page) {
                    if (Libc.memcmp(base + off + 1, want.address() + 1, page - 1) != 0) {
                        if (first == null) {
                            first = "the page at offset " + off + " of region " + plan.id() + " (" + op
                                    + ") does not hold what was served";
                        }
                        bad++;
                    }
                }
            }
            return first == null ? null : bad + " pages differ; " + first;
        }
    }

    @Override
    public String describe() {
        StringBuilder sb = new StringBuilder("as recorded:");
        for (ResolvePolicy p : byOp) {
            if (p != null) {
                sb.append(' ').append(p.ioctl());
            }
        }
        return sb.append(plan.hasDelays() ? " after each fault's own delay" : delayNanos > 0 ? " after a " + delayNanos
                + " ns delay" : "").toString();
    }

    @Override
    public void close() {
        for (ResolvePolicy p : byOp) {
            if (p != null) {
                p.close();
            }
        }
    }
}
