package dev.faultline.cli;

import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Runs a long job so that Ctrl-C (SIGINT, SIGTERM) stops it cleanly: a shutdown hook calls the
 * job's stop action and holds the JVM up to {@link #GRACE_SECONDS} while the job finishes its
 * files, instead of the JVM dying under it.
 */
final class StopOnSignal {
    /** How long a signalled JVM waits for the job to wind down. */
    static final int GRACE_SECONDS = 10;

    private StopOnSignal() {
    }

    /** Runs {@code job}; on a signal, calls {@code stop} and waits for {@code job} to return. */
    static <T> T run(String name, Runnable stop, Callable<T> job) throws Exception {
        CountDownLatch finished = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            stop.run();
            try {
                finished.await(GRACE_SECONDS, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, name + "-stop");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            return job.call();
        } finally {
            finished.countDown();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // the hook is running: it waited for us
            }
        }
    }
}
