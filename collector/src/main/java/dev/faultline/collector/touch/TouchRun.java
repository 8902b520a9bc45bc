package dev.faultline.collector.touch;

import dev.faultline.collector.handler.SpinCpus;

import java.util.function.LongConsumer;

/**
 * Runs a set of {@link Toucher}s on platform threads of their own and waits for all of them,
 * calling back about once a second with the nanoseconds so far (for progress lines). An interrupt
 * of the waiting thread is passed to {@code onInterrupt} (which should make the touchers stop)
 * and the wait goes on, so no toucher is left running.
 *
 * <p>While they run, the touchers keep off the CPUs a spinning handler owns ({@link SpinCpus})
 * and the JIT compiler threads run SCHED_IDLE ({@link CompilerThreads}): both kept a woken
 * faulting thread waiting milliseconds for its CPU. Before they start, the JIT is given up to a
 * second to finish what it has queued ({@link CompilerThreads#awaitQuiet}). A measured run also
 * parks the compiler threads on the spinning handler's CPUs, so that what the JIT compiles late
 * waits for the run's end instead of running on the faulting threads' CPUs: in 2000-fault replays
 * of hugetlb2m CONTINUE, 60% of the wake-ups found a compiler thread on the faulting thread's CPU,
 * and replay's p50 went from 1.17x the C floor's to 0.93x once they were parked. A warm-up run
 * leaves them free: compiling is what it is for.
 */
public final class TouchRun {
    /** How long the JIT must have been idle before touches start… */
    static final long QUIET_WINDOW_NANOS = 50_000_000;
    /** …and the longest the start waits for that. */
    static final long QUIET_MAX_NANOS = 1_000_000_000;

    private TouchRun() {
    }

    /**
     * What a run of touches took: its wall time, and the CPU time the JIT compiler threads used
     * meanwhile (0 where /proc cannot say). A warm JIT's is near 0.
     */
    public record Timing(long nanos, long jitNanos) {
        /** The JIT is quiet during a run when it used at most this share of the run's time… */
        public static final double JIT_QUIET_SHARE = 0.02;
        /** …or at most this long: a compile or two of this or that after a short run is no sign of cold code. */
        public static final long JIT_QUIET_NANOS = 5_000_000;

        /** Whether the JIT compiled for more than that during the run: some of the code it ran was not compiled yet. */
        public boolean jitBusy() {
            return jitNanos > Math.max(nanos * JIT_QUIET_SHARE, JIT_QUIET_NANOS);
        }
    }

    /**
     * Starts every toucher, waits for all; returns the time from the first start to the last end,
     * and the JIT's CPU time within it.
     *
     * @param measured whether the run is measured (the JIT waits on the handler's spinning CPUs, if
     *                 it has any) or a warm-up (the JIT runs wherever a CPU is idle)
     */
    public static Timing runAll(Toucher[] touchers, SpinCpus cpus, boolean measured, Runnable onInterrupt,
                                LongConsumer everySecond) {
        Thread[] threads = new Thread[touchers.length];
        for (int t = 0; t < touchers.length; t++) {
            Toucher toucher = touchers[t];
            threads[t] = Thread.ofPlatform().name("faultline-toucher-" + t).daemon().unstarted(() -> {
                cpus.keepOff();
                toucher.run();
            });
        }
        CompilerThreads.awaitQuiet(QUIET_WINDOW_NANOS, QUIET_MAX_NANOS);
        CompilerThreads.Demoted demoted = CompilerThreads.demote(measured ? cpus.ownedMask() : 0);
        long jit = demoted.runNanos();
        try {
            long nanos = join(threads, onInterrupt, everySecond);
            long jitAfter = demoted.runNanos();
            return new Timing(nanos, jit >= 0 && jitAfter >= jit ? jitAfter - jit : 0);
        } finally {
            demoted.restore();
        }
    }

    private static long join(Thread[] threads, Runnable onInterrupt, LongConsumer everySecond) {
        long t0 = System.nanoTime();
        for (Thread t : threads) {
            t.start();
        }
        for (Thread t : threads) {
            while (true) {
                try {
                    t.join(1000);
                } catch (InterruptedException e) {
                    onInterrupt.run();
                    continue;
                }
                if (!t.isAlive()) {
                    break;
                }
                everySecond.accept(System.nanoTime() - t0);
            }
        }
        return System.nanoTime() - t0;
    }

    /** Touches made so far by all of {@code touchers}. */
    public static long done(Toucher[] touchers) {
        long n = 0;
        for (Toucher t : touchers) {
            n += t.done();
        }
        return n;
    }
}
