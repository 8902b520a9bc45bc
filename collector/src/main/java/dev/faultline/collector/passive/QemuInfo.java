package dev.faultline.collector.passive;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a capture asks QEMU over QMP: its RAMBlocks as the monitor lists them ({@code info
 * ramblock}: names and used lengths, in QEMU's own order — the order its postcopy code registers
 * them with userfaultfd) and its vCPU threads ({@code query-cpus-fast}). A capture names each
 * registered region by the first block not yet claimed whose used length is the region's, and
 * records the vCPU thread ids so that blocked time is counted over the vCPUs as QEMU counts it.
 *
 * <p>Never throws: a socket that cannot be asked leaves the lists empty and {@link #error()} says
 * why; the regions then keep the names their mappings give.
 */
final class QemuInfo {
    /** "  ram0    4 KiB  0x0000000000000000 0x0000000004000000 0x0000000004000000" (QEMU 7.2 has no HVA column) */
    private static final Pattern ROW = Pattern.compile(
            "^\\s*(\\S.*?)\\s+(\\d+ [KMGT]?i?B)\\s+(0x[0-9a-fA-F]+)\\s+(0x[0-9a-fA-F]+)\\s+(0x[0-9a-fA-F]+)\\b.*$");
    static final long TIMEOUT_MILLIS = 2000;

    private record Block(String name, long used) {
    }

    private final List<Block> blocks;
    private final boolean[] claimed;
    private final List<Integer> vcpus;
    private final String error;

    private QemuInfo(List<Block> blocks, List<Integer> vcpus, String error) {
        this.blocks = blocks;
        this.claimed = new boolean[blocks.size()];
        this.vcpus = vcpus;
        this.error = error;
    }

    /** Asks QEMU at {@code socket}. */
    static QemuInfo query(Path socket) {
        try (QmpClient q = QmpClient.connect(socket, TIMEOUT_MILLIS)) {
            List<Block> blocks = parse(q.human("info ramblock"));
            List<Integer> threads = new ArrayList<>();
            q.execute("query-cpus-fast", java.util.Map.of()).forEach(cpu -> threads.add(cpu.path("thread-id").asInt()));
            return new QemuInfo(blocks, List.copyOf(threads), null);
        } catch (IOException | RuntimeException e) {
            return new QemuInfo(List.of(), List.of(), "QMP not read: " + e.getMessage());
        }
    }

    /** QEMU's vCPU thread ids, in vCPU order (empty if not read). */
    List<Integer> vcpus() {
        return vcpus;
    }

    /** The rows of an {@code info ramblock} answer. */
    static List<Block> parse(String table) {
        List<Block> out = new ArrayList<>();
        for (String l : table.split("\\R")) {
            Matcher m = ROW.matcher(l);
            if (m.matches() && !m.group(1).equals("Block Name")) {
                out.add(new Block(m.group(1).strip(), Long.parseUnsignedLong(m.group(4).substring(2), 16)));
            }
        }
        return out;
    }

    /** The name of the first unclaimed block of {@code length} used bytes, claimed now; null if none. */
    String claim(long length) {
        for (int i = 0; i < blocks.size(); i++) {
            if (!claimed[i] && blocks.get(i).used() == length) {
                claimed[i] = true;
                return blocks.get(i).name();
            }
        }
        return null;
    }

    /** Why no names could be read (null if they were). */
    String error() {
        return error;
    }

    /** The blocks read. */
    int size() {
        return blocks.size();
    }
}
