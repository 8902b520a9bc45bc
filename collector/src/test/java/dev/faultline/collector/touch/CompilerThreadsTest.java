package dev.faultline.collector.touch;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The JIT's threads go SCHED_IDLE for a run and come back, as the kernel reports their policy; the wait for them to go quiet ends. */
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

    @Test
    void theJitGoesQuietOnceNothingRunsAndTheWaitSaysSo() {
        // nothing here keeps the compiler busy for seconds, so it must go idle for 50 ms well within 5 s
        assertTrue(CompilerThreads.awaitQuiet(50_000_000, 5_000_000_000L));
    }
}
