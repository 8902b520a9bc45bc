package dev.faultline.collector.touch;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The JIT's threads go SCHED_IDLE for a run and come back, as the kernel reports their policy. */
class CompilerThreadsTest {

    static int policyOf(int tid) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/task/" + tid + "/sched"))) {
            if (line.startsWith("policy")) {
                return Integer.parseInt(line.substring(line.indexOf(':') + 1).strip());
            }
        }
        throw new AssertionError("no policy line for " + tid);
    }

    @Test
    void demotedThenRestored() throws IOException {
        int[] tids = CompilerThreads.demote();
        try {
            assertTrue(tids.length >= 1, "a JVM with a JIT has at least one compiler thread");
            for (int tid : tids) {
                assertEquals(5, policyOf(tid), "SCHED_IDLE");
            }
        } finally {
            CompilerThreads.restore(tids);
        }
        for (int tid : tids) {
            assertEquals(0, policyOf(tid), "SCHED_OTHER again");
        }
    }
}
