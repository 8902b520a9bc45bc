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
}
