package dev.faultline.core.region;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** What /proc/meminfo says is available, so a request for absurd sizes is refused before mapping. */
public final class SystemMemory {
    private SystemMemory() {
    }

    /** MemAvailable in bytes, or Long.MAX_VALUE if it cannot be read. */
    public static long available() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (line.startsWith("MemAvailable:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (IOException | NumberFormatException e) {
            // fall through: no limit known
        }
        return Long.MAX_VALUE;
    }

    /**
     * Writes {@code bytes} of anonymous memory once and frees it (at most half of what is
     * available), so that what is mapped next gets pages the system has just handed out. In a
     * lazily backed guest a side that maps more than the other otherwise runs short of pages the
     * host already backs and pays host faults the other does not (README, "Benchmark: replay against the C floor"); an A/B
     * benchmark warms before every side's turn alike.
     */
    public static void warm(long bytes) {
        long n = Math.min(bytes, available() / 2) & -4096L;
        if (n <= 0) {
            return;
        }
        try (Region r = Region.map(Backend.ANON, n)) {
            r.fill(0, 1, n);
        }
    }
}
