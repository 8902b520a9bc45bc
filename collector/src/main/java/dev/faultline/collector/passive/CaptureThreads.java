package dev.faultline.collector.passive;

import dev.faultline.core.abi.Libc;
import dev.faultline.core.abi.MmanAbi;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * This JVM's threads put at SCHED_IDLE while a capture runs, and back to SCHED_OTHER after: the
 * capture then takes only CPU time the traced process leaves idle, and yields the moment one of
 * its threads wakes. Its records wait in the ring buffer meanwhile (the kernel side stamps their
 * times), so nothing is lost but a little latency of the file.
 *
 * <p>Measured with bench/scripts/capture-cost: on a 2-CPU machine running a QEMU migration's two
 * QEMUs, the capture JVM's reader, linker, writer and JIT competed with them for the CPUs and
 * stretched the migration; docs/capture.md has the figures.
 */
final class CaptureThreads implements AutoCloseable {
    private final List<Integer> demoted;

    private CaptureThreads(List<Integer> demoted) {
        this.demoted = demoted;
    }

    /** Puts every thread of this JVM at SCHED_IDLE (threads it starts later inherit that from their creator). */
    static CaptureThreads yieldToTheTracedProcess() {
        List<Integer> tids = new ArrayList<>();
        try (DirectoryStream<Path> dir = Files.newDirectoryStream(Path.of("/proc/self/task"))) {
            for (Path t : dir) {
                int tid = Integer.parseInt(t.getFileName().toString());
                if (Libc.setScheduler(tid, MmanAbi.SCHED_IDLE) == 0) {
                    tids.add(tid);
                }
            }
        } catch (IOException | NumberFormatException e) {
            // no /proc: the capture runs at normal priority
        }
        return new CaptureThreads(tids);
    }

    /** Back to SCHED_OTHER for the threads that were demoted (a test JVM goes on after its capture). */
    @Override
    public void close() {
        for (int tid : demoted) {
            Libc.setScheduler(tid, MmanAbi.SCHED_OTHER);
        }
        Libc.setScheduler(Libc.gettid(), MmanAbi.SCHED_OTHER);
    }
}
