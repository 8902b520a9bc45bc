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
     * Starts every toucher, waits for all; returns the nanoseconds from the first start to the last end.
     *
     * @param measured whether the run is measured (the JIT waits on the handler's spinning CPUs, if
     *                 it has any) or a warm-up (the JIT runs wherever a CPU is idle)
     */
    public static long runAll(Toucher[] touchers, SpinCpus cpus, boolean measured, Runnable onInterrupt,
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
        try {
            return join(threads, onInterrupt, everySecond);
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
