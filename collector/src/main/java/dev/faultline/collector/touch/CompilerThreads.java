package dev.faultline.collector.touch;

import dev.faultline.core.abi.Libc;
import dev.faultline.core.abi.MmanAbi;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
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
