package dev.faultline.collector.workload;

import dev.faultline.collector.record.TouchClock;
import dev.faultline.core.abi.Libc;
import dev.faultline.core.abi.KernelException;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/**
 * One faulting thread of a workload: touches its pages in plan order from native code, timing
 * each first touch into the region's {@link TouchClock} (t_fault before, t_wake after).
 *
 * <p>The loop allocates nothing. With a pace, touch k starts no earlier than start + k × interval.
 */
final class Toucher implements Runnable {
    private final long base;
    private final long pageSize;
    private final int[] pages;
    private final TouchKind touch;
    private final TouchClock clock;
    private final long intervalNanos;
    private final BooleanSupplier stop;
    private volatile int done;

    Toucher(long base, long pageSize, int[] pages, TouchKind touch, TouchClock clock, long intervalNanos,
            BooleanSupplier stop) {
        this.base = base;
        this.pageSize = pageSize;
        this.pages = pages;
        this.touch = touch;
        this.clock = clock;
        this.intervalNanos = intervalNanos;
        this.stop = stop;
    }

    /** Touches made so far. */
    int done() {
        return done;
    }

    @Override
    public void run() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment scratch = arena.allocate(64);
            int readFd = -1;
            int writeFd = -1;
            if (touch == TouchKind.KERNEL) {
                MemorySegment fds = arena.allocate(8);
                int rc = Libc.pipe2(fds.address(), 0);
                if (rc < 0) {
                    throw new KernelException("pipe2 for kernel touches", -rc);
                }
                readFd = fds.get(java.lang.foreign.ValueLayout.JAVA_INT, 0);
                writeFd = fds.get(java.lang.foreign.ValueLayout.JAVA_INT, 4);
            }
            try {
                long start = System.nanoTime();
                for (int k = 0; k < pages.length; k++) {
                    if (stop.getAsBoolean()) {
                        break;
                    }
                    if (intervalNanos > 0) {
                        pace(start + k * intervalNanos);
                    }
                    int page = pages[k];
                    long address = base + page * pageSize;
                    long t0 = System.nanoTime();
                    switch (touch) {
                        case READ -> Libc.memcpy(scratch.address(), address, 1);
                        case WRITE -> Libc.memset(address, k & 0x7f | 1, 1);
                        case KERNEL -> {
                            if (Libc.write(writeFd, address, 1) == 1) {
                                Libc.read(readFd, scratch.address(), 1);
                            }
                        }
                    }
                    long t1 = System.nanoTime();
                    if (!clock.timed(page)) {
                        clock.record(page, t0, t1);
                    }
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
