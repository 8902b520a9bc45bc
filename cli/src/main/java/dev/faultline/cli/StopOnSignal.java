package dev.faultline.cli;

import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Runs a long job so that Ctrl-C (SIGINT, SIGTERM) stops it cleanly: a shutdown hook calls the
 * job's stop action and holds the JVM up to {@link #GRACE_SECONDS} — until {@link #reported()}
 * says the command has returned and printed its last line — instead of the JVM dying under it
 * with files half-written and nothing said.
 */
final class StopOnSignal {
    /** How long a signalled JVM waits for the job to wind down and report. */
    static final int GRACE_SECONDS = 10;
    private static final CountDownLatch REPORTED = new CountDownLatch(1);

    private StopOnSignal() {
    }

    /** Runs {@code job}; on a signal, calls {@code stop} and keeps the JVM up until the command has reported. */
    static <T> T run(String name, Runnable stop, Callable<T> job) throws Exception {
        Thread hook = new Thread(() -> {
            stop.run();
            try {
                REPORTED.await(GRACE_SECONDS, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, name + "-stop");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            return job.call();
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // the hook is running: it waits for reported()
            }
        }
    }

    /** The command has returned and printed what it had to say: a signalled JVM may now exit. */
    static void reported() {
        REPORTED.countDown();
    }
}
