package dev.faultline.core.trace;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Runs one task per item on a few daemon threads and hands back their results in the items'
 * order: how trace files are read and written in parallel (analyze's batches, export's traces).
 * A task that fails fails the whole call with its own exception (an I/O error stays the
 * IOException it was, so the caller's one-line message names the file); the other tasks are
 * interrupted and no thread outlives the call.
 */
public final class ParallelTasks {
    private ParallelTasks() {
    }

    /** A task over one item that may fail with an I/O error. */
    @FunctionalInterface
    public interface Task<T, R> {
        R run(T item) throws IOException;
    }

    /**
     * {@code task} over every item, at most {@code threads} at once, on threads named {@code name}.
     *
     * @param what what the tasks do, for the message of a failure that is no I/O error ("export")
     * @throws IOException the first failing task's, in the items' order
     */
    public static <T, R> List<R> map(List<T> items, int threads, String name, String what, Task<T, R> task) throws IOException {
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, Math.min(threads, items.size())),
                run -> Thread.ofPlatform().name(name).daemon().unstarted(run));
        try {
            List<Future<R>> parts = new ArrayList<>(items.size());
            for (T item : items) {
                parts.add(pool.submit(() -> task.run(item)));
            }
            List<R> out = new ArrayList<>(items.size());
            for (Future<R> f : parts) {
                out.add(f.get());
            }
            return out;
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof IOException io) {
                throw io;
            }
            if (c instanceof UncheckedIOException u) {
                throw u.getCause();
            }
            if (c instanceof RuntimeException re) {
                throw re;
            }
            throw new IOException(what + " failed: " + c, c);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(what + " interrupted", e);
        } finally {
            pool.shutdownNow();
        }
    }
}
