package dev.faultline.core.region;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class CpuIdleHoldTest {
    /** Entries into the polling idle state, summed over CPUs; -1 where cpuidle has none. */
    private static long pollEntries() throws IOException {
        long sum = -1;
        try (var cpus = Files.list(Path.of("/sys/devices/system/cpu"))) {
            for (Path cpu : cpus.filter(p -> p.getFileName().toString().matches("cpu[0-9]+")).toList()) {
                Path state0 = cpu.resolve("cpuidle/state0");
                if (Files.exists(state0) && Files.readString(state0.resolve("name")).trim().equals("POLL")) {
                    sum = Math.max(sum, 0) + Long.parseLong(Files.readString(state0.resolve("usage")).trim());
                }
            }
        }
        return sum;
    }

    @Test
    void theKernelSeesAZeroLatencyRequestWhileHeldAndNoneAfter() throws Exception {
        assumeTrue(Files.isWritable(Path.of(CpuIdleHold.DEVICE)), CpuIdleHold.DEVICE + " is not writable here (needs root)");
        int before = CpuIdleHold.currentLimitMicros();
        assertTrue(before >= 0, "the current limit reads back");
        long pollBefore = pollEntries();
        try (CpuIdleHold hold = CpuIdleHold.of(CpuIdle.POLL)) {
            assertTrue(hold.held(), () -> "not held: " + hold.why());
            assertFalse(hold.refused());
            assertNull(hold.why());
            assertEquals(0, CpuIdleHold.currentLimitMicros(), "the kernel's CPU latency limit while held");
            Thread.sleep(100); // idle CPUs now enter the polling state instead of halting
            if (pollBefore >= 0) {
                assertTrue(pollEntries() > pollBefore, "idle CPUs entered the POLL state while held");
            }
            hold.close();
            assertFalse(hold.held());
            hold.close(); // idempotent
        }
        assertEquals(before, CpuIdleHold.currentLimitMicros(), "the limit after the hold is the one before it");
    }

    @Test
    void noneHoldsNothingAndSaysSo() {
        try (CpuIdleHold hold = CpuIdleHold.of(CpuIdle.SYSTEM)) {
            assertFalse(hold.held());
            assertFalse(hold.refused(), "nothing was asked, so nothing was refused");
            assertEquals("not asked for", hold.why());
        }
    }
}
