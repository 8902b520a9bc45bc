package dev.faultline.collector.touch;

import dev.faultline.collector.record.TouchClock;
import dev.faultline.core.abi.KernelException;
import dev.faultline.core.abi.Libc;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * One faulting thread: plays a {@link TouchScript} from native code (docs/design.md §5), timing each
 * first touch of a page into its region's {@link TouchClock} (t_fault before, t_wake after).
 *
 * <p>Region r is mapped at {@code bases[r]} with pages of {@code pageSizes[r]} bytes; touch k
 * lands on the first byte of its page. The loop allocates nothing. A paced script's touch k starts
 * no earlier than start + due(k). {@code stop} is polled before every touch.
 */
public final class Toucher implements Runnable {
    private final TouchScript script;
    private final long[] bases;
    private final long[] pageSizes;
    private final TouchClock[] clocks;
    private final BooleanSupplier stop;
    private volatile int done;
    private volatile int started;

    /**
     * @param clocks per region, where its first touches are timed (null entries: not timed)
     */
    public Toucher(TouchScript script, long[] bases, long[] pageSizes, TouchClock[] clocks, BooleanSupplier stop) {
        this.script = script;
        this.bases = bases.clone();
        this.pageSizes = pageSizes.clone();
        this.clocks = clocks.clone();
        this.stop = stop;
    }

    /** Touches made so far. */
    public int done() {
        return done;
    }

    /** Touches begun so far (the one under way included): what a replay's pushes wait for. */
    public int started() {
        return started;
    }

    /** Touches in its script. */
    public int touches() {
        return script.size();
    }

    @Override
    public void run() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment scratch = arena.allocate(64);
            int readFd = -1;
            int writeFd = -1;
            if (script.uses(TouchKind.KERNEL)) {
                MemorySegment fds = arena.allocate(8);
                int rc = Libc.pipe2(fds.address(), 0);
                if (rc < 0) {
                    throw new KernelException("pipe2 for kernel touches", -rc);
                }
                readFd = fds.get(JAVA_INT, 0);
                writeFd = fds.get(JAVA_INT, 4);
            }
            try {
                boolean paced = script.paced();
                long start = System.nanoTime();
                int n = script.size();
                for (int k = 0; k < n; k++) {
                    if (stop.getAsBoolean()) {
                        break;
                    }
                    if (paced) {
                        pace(start + script.due(k));
                    }
                    touch(k, scratch, readFd, writeFd);
                    done = k + 1;
                }
            } finally {
                if (readFd >= 0) {
                    Libc.close(readFd);
                    Libc.close(writeFd);
                }
            }
        }
    }

    /**
     * Touches the k-th page of the script and times it. A method of its own, not the loop's body,
     * so that the JIT compiles it in full and the next toucher in this JVM (a replay's next run,
     * a recording after its warm-up) starts on compiled code instead of interpreting again.
     */
    private void touch(int k, MemorySegment scratch, int readFd, int writeFd) {
        int region = script.region(k);
        int page = script.page(k);
        long address = bases[region] + page * pageSizes[region];
        long t0 = System.nanoTime();
        started = k + 1; // after t0: what waits for this touch sees a time at or after its t_fault
        switch (script.kind(k)) {
            case READ -> Libc.memcpy(scratch.address(), address, 1);
            case WRITE -> Libc.memset(address, k & 0x7f | 1, 1);
            case KERNEL -> {
                if (Libc.write(writeFd, address, 1) == 1) {
                    Libc.read(readFd, scratch.address(), 1);
                }
            }
        }
        long t1 = System.nanoTime();
        TouchClock clock = clocks[region];
        if (clock != null && !clock.timed(page)) {
            clock.record(page, t0, t1);
        }
    }

    private static void pace(long until) {
        long gap;
        while ((gap = until - System.nanoTime()) > 0) {
            if (gap > 2_000_000) {
                LockSupport.parkNanos(gap - 1_000_000);
            } else {
                Thread.onSpinWait();
            }
        }
    }
}
