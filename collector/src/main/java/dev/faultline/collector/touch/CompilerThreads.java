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
 *
 * <p>For a measured run they can also be parked on the CPUs a spinning handler owns: there, at
 * SCHED_IDLE beside a thread that never sleeps, they wait for the run to end. Yielding is not
 * enough there: a CPU that is running anything, even a SCHED_IDLE thread, needs an inter-processor
 * interrupt to wake a faulting thread, where an idle one is often still polling and needs none
 * (bpftrace: the C floor's wake-ups went without one 87% of the time).
 *
 * <p>A passive capture uses {@link #awaitQuiet} too, before its probes go in.
 */
public final class CompilerThreads {
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
    public static boolean awaitQuiet(long windowNanos, long maxNanos) {
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
        return runNanos(compilerTids());
    }

    /** The run time so far of threads {@code tids}, in nanoseconds; -1 if /proc cannot say. */
    private static long runNanos(int[] tids) {
        long sum = 0;
        for (int tid : tids) {
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

    /**
     * Demotes every compiler thread of this JVM to SCHED_IDLE and, if {@code parkOn} is not 0,
     * confines them to those CPUs (a mask of CPUs 0-63); {@link Demoted#restore} undoes both.
     */
    static Demoted demote(long parkOn) {
        int[] tids = compilerTids();
        long[] affinity = new long[tids.length];
        int n = 0;
        for (int tid : tids) {
            if (Libc.setScheduler(tid, MmanAbi.SCHED_IDLE) == 0) {
                long own = parkOn != 0 ? Libc.getAffinity(tid) : 0;
                affinity[n] = own > 0 && Libc.setAffinity(tid, parkOn) == 0 ? own : 0;
                tids[n++] = tid;
            }
        }
        return new Demoted(Arrays.copyOf(tids, n), Arrays.copyOf(affinity, n));
    }

    /**
     * Compiler threads {@link #demote}d: their tids, and per tid the CPU mask to give back (0: its
     * CPUs were not changed).
     */
    record Demoted(int[] tids, long[] affinity) {
        /** Their run time so far, in nanoseconds; -1 if /proc cannot say. */
        long runNanos() {
            return CompilerThreads.runNanos(tids);
        }

        /** Puts them back to SCHED_OTHER on their own CPUs (a thread that has exited since is skipped). */
        void restore() {
            for (int i = 0; i < tids.length; i++) {
                Libc.setScheduler(tids[i], MmanAbi.SCHED_OTHER);
                if (affinity[i] != 0) {
                    Libc.setAffinity(tids[i], affinity[i]);
                }
            }
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
