package dev.faultline.collector.touch;

import dev.faultline.core.abi.Libc;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The JIT's threads go SCHED_IDLE for a run, and onto the CPUs they are parked on, and come back,
 * as the kernel reports their policy and CPUs; the wait for them to go quiet ends.
 */
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
        CompilerThreads.Demoted demoted = CompilerThreads.demote(0);
        int[] tids = demoted.tids();
        long all = Libc.getAffinity(0);
        try {
            assertTrue(tids.length >= 1, "a JVM with a JIT has at least one compiler thread");
            for (int tid : tids) {
                assertEquals(5, policyOf(tid), "SCHED_IDLE");
                assertEquals(all, Libc.getAffinity(tid), "not moved when there is nowhere to park");
            }
        } finally {
            demoted.restore();
        }
        for (int tid : tids) {
            assertEquals(0, policyOf(tid), "SCHED_OTHER again");
        }
    }

    @Test
    void parkedOnTheGivenCpusThenGivenTheirOwnBack() throws IOException {
        long all = Libc.getAffinity(0);
        assumeTrue(all > 0 && Long.bitCount(all) >= 2, "parking needs two CPUs to choose from; this process may use " + Long.bitCount(all));
        long highest = Long.highestOneBit(all); // where SpinCpus puts a spinning handler
        CompilerThreads.Demoted demoted = CompilerThreads.demote(highest);
        try {
            for (int tid : demoted.tids()) {
                assertEquals(highest, Libc.getAffinity(tid), "compiler thread " + tid + " parked on the one CPU");
                assertEquals(5, policyOf(tid), "SCHED_IDLE");
            }
        } finally {
            demoted.restore();
        }
        for (int tid : demoted.tids()) {
            assertEquals(all, Libc.getAffinity(tid), "compiler thread " + tid + " back on every CPU");
            assertEquals(0, policyOf(tid), "SCHED_OTHER again");
        }
    }

    @Test
    void theJitGoesQuietOnceNothingRunsAndTheWaitSaysSo() {
        // nothing here keeps the compiler busy for seconds, so it must go idle for 50 ms well within 5 s
        assertTrue(CompilerThreads.awaitQuiet(50_000_000, 5_000_000_000L));
    }
}
