package dev.faultline.core.region;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The huge page pools of this machine, read from /sys/kernel/mm/hugepages: which sizes exist and
 * how many pages of each are reserved and free. Read fresh on every call.
 */
public final class HugePages {
    private static final Path ROOT = Path.of("/sys/kernel/mm/hugepages");

    private HugePages() {
    }

    /** Free pages per page size in bytes, for every size the kernel has a pool for. */
    public static Map<Long, Long> free() {
        return read("free_hugepages");
    }

    /** Reserved (nr_hugepages) pages per page size in bytes. */
    public static Map<Long, Long> total() {
        return read("nr_hugepages");
    }

    /** Free pages of one size, 0 if there is no pool of that size. */
    public static long free(long pageSize) {
        return free().getOrDefault(pageSize, 0L);
    }

    /**
     * The shell command that leaves {@code pages} pages of {@code pageSize} free (the pool's new
     * total: those in use stay reserved), or, where this kernel has no pool of that size, that
     * none can be reserved and why: it reads after "reserve them: ".
     */
    public static String reserveHint(long pageSize, long pages) {
        Path pool = ROOT.resolve("hugepages-" + (pageSize / 1024) + "kB");
        Long total = total().get(pageSize);
        if (total == null) {
            return "not on this kernel: it has no pool of " + (pageSize >= 1L << 30 ? (pageSize >> 30) + " GiB" : (pageSize >> 20) + " MiB")
                    + " pages (no " + pool + "; the CPU or the kernel's command line, hugepagesz=, does not offer them)";
        }
        long inUse = total - free(pageSize);
        return "echo " + (inUse + pages) + " > " + pool.resolve("nr_hugepages");
    }

    private static Map<Long, Long> read(String file) {
        Map<Long, Long> out = new LinkedHashMap<>();
        try (var dirs = Files.list(ROOT)) {
            for (Path d : dirs.sorted().toList()) {
                String name = d.getFileName().toString();
                if (!name.startsWith("hugepages-") || !name.endsWith("kB")) {
                    continue;
                }
                long kb = Long.parseLong(name.substring("hugepages-".length(), name.length() - 2));
                out.put(kb * 1024, Long.parseLong(Files.readString(d.resolve(file)).trim()));
            }
        } catch (IOException | NumberFormatException e) {
            // No hugetlb support: no pools.
        }
        return out;
    }
}
