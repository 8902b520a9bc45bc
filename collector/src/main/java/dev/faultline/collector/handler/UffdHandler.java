package dev.faultline.collector.handler;

import dev.faultline.collector.record.RecordRing;
import dev.faultline.collector.record.TouchClock;
import dev.faultline.core.abi.Libc;
import dev.faultline.core.trace.EventKind;
import dev.faultline.core.trace.TraceEvent;
import dev.faultline.core.uffd.ResolveIoctl;
import dev.faultline.core.uffd.UffdEvent;
import dev.faultline.core.uffd.UffdFeature;
import dev.faultline.core.uffd.UffdMessageBuffer;
import dev.faultline.core.uffd.Userfaultfd;

import java.lang.foreign.Arena;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A userfaultfd handler: owns a uffd with one or more registered {@link HandledRegion}s and
 * resolves their faults on one or more handler threads, each through its region's
 * {@link ResolvePolicy}. With recording on, every message read and every resolving ioctl becomes
 * a trace row handed to the thread's {@link RecordRing}.
 *
 * <p>The hot loop — read a batch of messages, resolve, time, hand over the row — allocates
 * nothing and touches no registered memory from Java (docs/design.md §5). Non-fault events: FORK closes
 * the child's uffd (the child's faults then proceed unhandled), REMAP moves the region, REMOVE is
 * recorded (the pages fault again on the next touch), UNMAP marks the region gone.
 *
 * <p>If a handler thread fails, the handler closes the uffd so that no faulting thread stays
 * blocked, and {@link #failure()} says why. {@link #close} stops the threads, then closes the
 * uffd, which also releases any thread still waiting on a fault. Close regions only after that:
 * unmapping a registered region waits for a handler to read the UNMAP event.
 */
public final class UffdHandler implements AutoCloseable {
    private static final int BATCH = 32;
    private static final int POLL_MILLIS = 100;
    private static final int COUNTERS = 8; // longs per thread, so each thread's fault count has its own cache line

    private final Userfaultfd uffd;
    private final HandledRegion[] regions;
    private final WaitStrategy wait;
    private final RecordRing[] rings;
    private final SpinCpus cpus;
    private final Thread[] threads;
    private final long[] faults; // per thread, at index thread * COUNTERS
    private final AtomicLong seq = new AtomicLong();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private volatile boolean running = true;

    /**
     * Registers every region (running its policy's set-up) and starts {@code threads} handler threads.
     *
     * @param ringCapacity rows per handler thread's ring; 0 turns recording off
     */
    public UffdHandler(Userfaultfd uffd, List<HandledRegion> regions, int threads, WaitStrategy wait, int ringCapacity) {
        if (threads < 1) {
            throw new IllegalArgumentException("a handler needs at least one thread, not " + threads);
        }
        this.uffd = uffd;
        this.regions = regions.toArray(HandledRegion[]::new);
        this.wait = wait;
        for (HandledRegion r : this.regions) {
            r.policy().beforeRegister(r.region());
            uffd.register(r.region().address(), r.region().length(), r.policy().mode().bits());
            r.policy().afterRegister(uffd, r.region());
        }
        this.rings = new RecordRing[ringCapacity > 0 ? threads : 0];
        for (int i = 0; i < rings.length; i++) {
            rings[i] = new RecordRing(ringCapacity);
        }
        this.faults = new long[threads * COUNTERS];
        this.cpus = wait == WaitStrategy.SPIN ? SpinCpus.forSpinning(threads) : SpinCpus.none();
        this.threads = new Thread[threads];
        for (int i = 0; i < threads; i++) {
            int index = i;
            this.threads[i] = Thread.ofPlatform().name("faultline-handler-" + i).daemon().unstarted(() -> loop(index));
        }
        for (Thread t : this.threads) {
            t.start();
        }
    }

    /** The features a uffd needs for {@code regions}: the policies', thread ids, and the non-fault events. */
    public static long features(List<HandledRegion> regions) {
        long f = UffdFeature.maskOf(UffdFeature.THREAD_ID, UffdFeature.EVENT_FORK, UffdFeature.EVENT_REMAP,
                UffdFeature.EVENT_REMOVE, UffdFeature.EVENT_UNMAP);
        for (HandledRegion r : regions) {
            f |= r.policy().features(r.region().backend());
        }
        return f;
    }

    /** One ring per handler thread (empty when recording is off). */
    public List<RecordRing> rings() {
        return List.of(rings);
    }

    /** Per region id, the faulting side's timings ({@link HandledRegion#clock()}, null where the faults are not ours). */
    public TouchClock[] clocks() {
        TouchClock[] clocks = new TouchClock[regions.length];
        for (HandledRegion r : regions) {
            clocks[r.id()] = r.clock();
        }
        return clocks;
    }

    /** The CPUs its spinning threads own: faulting threads should stay off them ({@link SpinCpus#keepOff()}). */
    public SpinCpus cpus() {
        return cpus;
    }

    /** Faults resolved so far (exact once closed). */
    public long faults() {
        long n = 0;
        for (int i = 0; i < threads.length; i++) {
            n += faults[i * COUNTERS];
        }
        return n;
    }

    /**
     * The next row sequence number, for rows recorded beside the handler's own (e.g. replay's
     * re-issued pushes), so that {@code seq} stays one order of observation.
     */
    public long nextSeq() {
        return seq.getAndIncrement();
    }

    /** Why a handler thread stopped early, or null. */
    public Throwable failure() {
        return failure.get();
    }

    private void loop(int index) {
        RecordRing ring = rings.length > 0 ? rings[index] : null;
        TraceEvent row = new TraceEvent();
        int c = index * COUNTERS;
        cpus.pinHandler(index);
        try (Arena arena = Arena.ofConfined()) {
            UffdMessageBuffer buf = new UffdMessageBuffer(arena, BATCH);
            while (running) {
                if (!serve(buf, ring, row, c)) {
                    if (wait == WaitStrategy.POLL) {
                        uffd.awaitReadable(POLL_MILLIS);
                    } else {
                        Thread.onSpinWait();
                    }
                }
            }
        } catch (Throwable t) {
            if (running && failure.compareAndSet(null, t)) {
                running = false;
                uffd.close(); // release every thread blocked on a fault of ours
            }
        }
    }

    /**
     * One read of the uffd and every message it returned; false if there was none. A method of its
     * own, not the loop's body: the JIT compiles a method called this often in full, and the next
     * handler in this JVM (a replay's next run) reuses that code. A loop body is only compiled
     * on-stack for the one loop running it, so every new handler started interpreted again.
     */
    private boolean serve(UffdMessageBuffer buf, RecordRing ring, TraceEvent row, int c) {
        int n = uffd.read(buf);
        if (n == 0) {
            return false;
        }
        long tRead = System.nanoTime();
        for (int i = 0; i < n; i++) {
            if (buf.eventCode(i) == UffdEvent.PAGEFAULT.code()) {
                fault(buf, i, tRead, ring, row);
                faults[c]++;
            } else {
                event(buf, i, tRead, ring, row);
            }
        }
        return true;
    }

    private HandledRegion find(long address) {
        for (HandledRegion r : regions) {
            if (r.contains(address)) {
                return r;
            }
        }
        return null;
    }

    private void fault(UffdMessageBuffer buf, int i, long tRead, RecordRing ring, TraceEvent row) {
        long address = buf.address(i);
        HandledRegion r = find(address);
        if (r == null) {
            throw new IllegalStateException("fault at 0x" + Long.toHexString(address) + " outside every registered region");
        }
        long pageSize = r.region().pageSize();
        long page = address & -pageSize;
        long offset = page - r.base;
        r.policy().serve(offset, pageSize);
        long t0 = System.nanoTime();
        long rc = r.policy().resolve(uffd, page, offset, pageSize, row);
        long t1 = System.nanoTime();
        if (ring != null) {
            row.seq = seq.getAndIncrement();
            row.kind = EventKind.PAGEFAULT;
            row.region = r.id();
            row.offset = offset;
            row.address = address;
            row.flags = (int) buf.flags(i);
            row.tid = buf.tid(i);
            row.result = rc < 0 ? (int) rc : 0;
            row.tFault = TraceEvent.UNKNOWN;
            row.tRead = tRead;
            row.tResolveStart = t0;
            row.tResolveEnd = t1;
            row.tWake = TraceEvent.UNKNOWN;
            ring.offer(row);
        }
    }

    private void event(UffdMessageBuffer buf, int i, long tRead, RecordRing ring, TraceEvent row) {
        UffdEvent kind = buf.event(i);
        long start = 0;
        long length = 0;
        HandledRegion r = null;
        switch (kind) {
            case FORK -> Libc.close(buf.forkUfd(i)); // we do not handle the child's faults
            case REMAP -> {
                start = buf.remapFrom(i);
                length = buf.remapLength(i);
                r = find(start);
                if (r != null && start == r.base && length == r.region().length()) {
                    r.base = buf.remapTo(i);
                }
            }
            case REMOVE, UNMAP -> {
                start = buf.rangeStart(i);
                length = buf.rangeEnd(i) - start;
                r = find(start);
                if (r != null && kind == UffdEvent.UNMAP && start <= r.base && length >= r.region().length()) {
                    r.unmapped = true;
                }
            }
            default -> {
            }
        }
        if (ring != null) {
            row.clear();
            row.seq = seq.getAndIncrement();
            row.kind = switch (kind) {
                case FORK -> EventKind.FORK;
                case REMAP -> EventKind.REMAP;
                case REMOVE -> EventKind.REMOVE;
                case UNMAP -> EventKind.UNMAP;
                default -> EventKind.PAGEFAULT;
            };
            row.region = r != null ? r.id() : 0;
            row.address = kind == UffdEvent.REMAP ? buf.remapTo(i) : start;
            row.offset = r != null ? Math.max(0, start - r.region().address()) : 0;
            row.ioctl = ResolveIoctl.NONE;
            row.resolveLength = length;
            row.tRead = tRead;
            ring.offer(row);
        }
    }

    /** Stops the handler threads, then closes the uffd (releasing any thread still on a fault). Idempotent. */
    @Override
    public void close() {
        running = false;
        for (Thread t : threads) {
            try {
                t.join(5_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        uffd.close();
    }

    /** The handler threads, for tests that check none is left running. */
    List<Thread> threads() {
        return List.of(threads);
    }
}
