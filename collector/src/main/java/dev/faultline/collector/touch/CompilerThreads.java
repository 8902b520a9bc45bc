package dev.faultline.collector.touch;

import dev.faultline.core.abi.Libc;
import dev.faultline.core.abi.MmanAbi;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;

/**
 * The JVM's JIT compiler threads, demoted to SCHED_IDLE while faulting threads run. bpftrace on
 * sched_switch showed a woken faulting thread waiting 0.1-8 ms behind a C1 or C2 compiler thread
 * on its CPU — the whole of the fault-latency tail the C floor does not have. At SCHED_IDLE a
 * compiler still gets every idle moment (a faulting thread waiting on its fault leaves plenty)
 * but yields at once to a thread that wakes.
 */
final class CompilerThreads {
    private CompilerThreads() {
    }

    /**
     * Waits until the compiler threads have been idle for a whole {@code windowNanos} (their run
     * time in /proc/self/task/TID/schedstat grew by under a tenth of it), or {@code maxNanos}
     * passed. Code the JIT queued while a warm-up ran is then compiled before the faulting threads
     * start, instead of on their CPU while they wait on their faults.
     *
     * @return true if they went quiet, false if the wait ran out (or there is no /proc)
     */
    static boolean awaitQuiet(long windowNanos, long maxNanos) {
        long deadline = System.nanoTime() + maxNanos;
        long before = runNanos();
        while (before >= 0 && System.nanoTime() < deadline) {
            LockSupport.parkNanos(windowNanos);
            long after = runNanos();
            if (after >= 0 && after - before < windowNanos / 10) {
                return true;
            }
            before = after;
        }
        return false;
    }

    /** The compiler threads' run time so far, in nanoseconds; -1 if /proc cannot say. */
    private static long runNanos() {
        long sum = 0;
        for (int tid : compilerTids()) {
            try {
                String stat = Files.readString(Path.of("/proc/self/task/" + tid + "/schedstat"));
                sum += Long.parseLong(stat.substring(0, stat.indexOf(' ')));
            } catch (IOException e) {
                // the thread has exited: its time no longer counts either way
            } catch (RuntimeException e) {
                return -1;
            }
        }
        return sum;
    }

    /** Demotes every compiler thread of this JVM; returns the tids demoted (to {@link #restore}). */
    static int[] demote() {
        int[] tids = compilerTids();
        int n = 0;
        for (int tid : tids) {
            if (Libc.setScheduler(tid, MmanAbi.SCHED_IDLE) == 0) {
                tids[n++] = tid;
            }
        }
        return Arrays.copyOf(tids, n);
    }

    /** Puts demoted threads back to SCHED_OTHER (a thread that has exited since is skipped). */
    static void restore(int[] tids) {
        for (int tid : tids) {
            Libc.setScheduler(tid, MmanAbi.SCHED_OTHER);
        }
    }

    private static int[] compilerTids() {
        try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
            return tasks.filter(CompilerThreads::isCompiler).mapToInt(t -> Integer.parseInt(t.getFileName().toString())).toArray();
        } catch (IOException | RuntimeException e) {
            return new int[0]; // no /proc: nothing to demote
        }
    }

    private static boolean isCompiler(Path task) {
        try {
            String comm = Files.readString(task.resolve("comm")).strip();
            return comm.startsWith("C1 CompilerThre") || comm.startsWith("C2 CompilerThre");
        } catch (IOException e) {
            return false; // the thread has exited
        }
    }
}
