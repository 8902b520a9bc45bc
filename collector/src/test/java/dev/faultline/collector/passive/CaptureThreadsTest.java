package dev.faultline.collector.passive;

import dev.faultline.core.abi.Libc;
import dev.faultline.core.abi.MmanAbi;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A capture's threads follow the handler it traces — SCHED_IDLE while it sleeps, SCHED_BATCH
 * while it spins — as the kernel reports this thread's policy, and are SCHED_OTHER again after.
 */
class CaptureThreadsTest {

    private static int policyOfThisThread() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/task/" + Libc.gettid() + "/sched"))) {
            if (line.startsWith("policy")) {
                return Integer.parseInt(line.substring(line.indexOf(':') + 1).strip());
            }
        }
        throw new AssertionError("no policy line in /proc/self/task/TID/sched");
    }

    @Test
    void followsTheHandler() throws IOException {
        assumeTrue(System.getenv(CaptureThreads.POLICY_ENV) == null,
                CaptureThreads.POLICY_ENV + " is set: the policy is fixed, not following the handler");
        try (CaptureThreads threads = CaptureThreads.yieldToTheTracedProcess()) {
            assertEquals(MmanAbi.SCHED_BATCH, policyOfThisThread(), "a handler not seen yet: SCHED_BATCH");
            threads.handlerReads(2_000, 2_000, 100_000_000L); // a handler in poll(2): one empty read per full one
            assertEquals(MmanAbi.SCHED_IDLE, policyOfThisThread(), "a handler that sleeps: SCHED_IDLE");
            threads.handlerReads(100_000, 2_000, 100_000_000L);
            assertEquals(MmanAbi.SCHED_BATCH, policyOfThisThread(), "it spins: SCHED_BATCH");
        }
        assertEquals(MmanAbi.SCHED_OTHER, policyOfThisThread(), "after the capture");
    }

    @Test
    void spinningIsManyEmptyReadsAndManyPerFullOne() {
        long second = 1_000_000_000L;
        assertTrue(CaptureThreads.spinning(4_700_000, 100_000, second), "the C floor spinning: 47 per full read");
        assertFalse(CaptureThreads.spinning(30_000, 30_000, second), "the C floor in poll(2): one per full read");
        assertFalse(CaptureThreads.spinning(5_000, 0, second), "too few a second to matter");
        assertTrue(CaptureThreads.spinning(50_000, 0, second), "spinning with no fault to serve");
    }

    @Test
    void policiesByName() {
        assertEquals(CaptureThreads.AUTO, CaptureThreads.policy(null));
        assertEquals(CaptureThreads.AUTO, CaptureThreads.policy(" Auto "));
        assertEquals(MmanAbi.SCHED_BATCH, CaptureThreads.policy("batch"));
        assertEquals(MmanAbi.SCHED_IDLE, CaptureThreads.policy("idle"));
        assertEquals(MmanAbi.SCHED_OTHER, CaptureThreads.policy("other"));
        CaptureException e = assertThrows(CaptureException.class, () -> CaptureThreads.policy("fifo"));
        assertEquals("FAULTLINE_CAPTURE_SCHED=fifo is not a policy a capture can run at: auto, batch, idle or other", e.getMessage());
    }
}
