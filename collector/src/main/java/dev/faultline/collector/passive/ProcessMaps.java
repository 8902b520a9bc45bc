package dev.faultline.collector.passive;

import dev.faultline.core.abi.UffdAbi;
import dev.faultline.core.region.Backend;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A process's memory areas as /proc/PID/smaps shows them: where they are, what backs them, their
 * page size and whether userfaultfd is registered on them (VmFlags {@code um} missing, {@code uw}
 * write-protect, {@code ui} minor). A capture that attaches after the handler registered learns
 * its regions here; one that sees a registration asks here what the range is.
 */
public final class ProcessMaps {
    /** One area (a line of /proc/PID/maps plus its smaps fields). */
    public record Area(long start, long end, String path, long pageSize, List<String> vmFlags) {
        /** The UFFDIO_REGISTER_MODE_* bits its VmFlags show, 0 if not registered. */
        public long modes() {
            return (vmFlags.contains("um") ? UffdAbi.UFFDIO_REGISTER_MODE_MISSING : 0)
                    | (vmFlags.contains("uw") ? UffdAbi.UFFDIO_REGISTER_MODE_WP : 0)
                    | (vmFlags.contains("ui") ? UffdAbi.UFFDIO_REGISTER_MODE_MINOR : 0);
        }

        /** What backs it: hugetlb by its page size, guest_memfd, shmem for shared memory, else anon. */
        public Backend backend() {
            if (vmFlags.contains("ht")) {
                return pageSize >= (1L << 30) ? Backend.HUGETLB_1G : Backend.HUGETLB_2M;
            }
            if (path.contains("kvm-gmem")) {
                return Backend.GUEST_MEMFD;
            }
            return vmFlags.contains("sh") || path.startsWith("/memfd:") ? Backend.SHMEM : Backend.ANON;
        }

        /** Whether {@code address} is inside. */
        public boolean contains(long address) {
            return Long.compareUnsigned(address, start) >= 0 && Long.compareUnsigned(address, end) < 0;
        }
    }

    private final List<Area> areas;

    private ProcessMaps(List<Area> areas) {
        this.areas = areas;
    }

    /**
     * Reads /proc/PID/smaps.
     *
     * @throws NoSuchFileException if the process does not exist (any more)
     */
    public static ProcessMaps read(int pid) throws IOException {
        List<Area> areas = new ArrayList<>();
        long start = 0;
        long end = 0;
        String path = "";
        long pageSize = 4096;
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/smaps"))) {
            int colon = line.indexOf(':');
            int dash = line.indexOf('-');
            if (dash > 0 && (colon < 0 || dash < colon) && isHex(line, dash)) { // an area's first line
                String[] f = line.split("\\s+", 6);
                start = Long.parseUnsignedLong(f[0].substring(0, dash), 16);
                end = Long.parseUnsignedLong(f[0].substring(dash + 1), 16);
                path = f.length > 5 ? f[5].strip() : "";
                pageSize = 4096;
            } else if (line.startsWith("KernelPageSize:")) {
                pageSize = Long.parseLong(line.substring(colon + 1).replace("kB", "").strip()) * 1024;
            } else if (line.startsWith("VmFlags:")) { // an area's last line
                areas.add(new Area(start, end, path, pageSize, Arrays.asList(line.substring(colon + 1).strip().split("\\s+"))));
            }
        }
        return new ProcessMaps(areas);
    }

    private static boolean isHex(String line, int upTo) {
        for (int i = 0; i < upTo; i++) {
            if (Character.digit(line.charAt(i), 16) < 0) {
                return false;
            }
        }
        return upTo > 0;
    }

    /** Every area, in address order. */
    public List<Area> areas() {
        return areas;
    }

    /** The areas userfaultfd is registered on, in address order. */
    public List<Area> registered() {
        return areas.stream().filter(a -> a.modes() != 0).toList();
    }

    /** The area holding {@code address}, or null. */
    public Area at(long address) {
        for (Area a : areas) {
            if (a.contains(address)) {
                return a;
            }
        }
        return null;
    }

    /**
     * The registered areas of every other process that has a userfaultfd open, by pid: where the
     * faults of a uffd received over a socket can be (they are in the sender's memory).
     */
    public static java.util.Map<Integer, List<Area>> registeredElsewhere(int exceptPid) {
        java.util.Map<Integer, List<Area>> out = new java.util.TreeMap<>();
        try (DirectoryStream<Path> procs = Files.newDirectoryStream(Path.of("/proc"), p -> p.getFileName().toString().matches("\\d+"))) {
            for (Path p : procs) {
                int pid = Integer.parseInt(p.getFileName().toString());
                if (pid == exceptPid) {
                    continue;
                }
                try {
                    if (uffdFds(pid).length > 0) {
                        List<Area> areas = read(pid).registered();
                        if (!areas.isEmpty()) {
                            out.put(pid, areas);
                        }
                    }
                } catch (IOException gone) {
                    // exited, or not ours to read
                }
            }
        } catch (IOException e) {
            // no /proc
        }
        return out;
    }

    /**
     * The file descriptors of {@code pid} that are userfaultfds (their link reads
     * {@code anon_inode:[userfaultfd]}).
     *
     * @throws NoSuchFileException if the process does not exist
     */
    public static int[] uffdFds(int pid) throws IOException {
        List<Integer> fds = new ArrayList<>();
        try (DirectoryStream<Path> dir = Files.newDirectoryStream(Path.of("/proc/" + pid + "/fd"))) {
            for (Path fd : dir) {
                try {
                    if (Files.readSymbolicLink(fd).toString().contains("[userfaultfd]")) {
                        fds.add(Integer.parseInt(fd.getFileName().toString()));
                    }
                } catch (IOException e) {
                    // closed while we looked
                }
            }
        }
        return fds.stream().mapToInt(Integer::intValue).sorted().toArray();
    }
}
