package dev.faultline.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * QEMU's own record of its postcopy-blocktime bookkeeping, read from its trace events
 * ({@code -msg timestamp=on -trace mark_postcopy_blocktime_*}): each fault its fault thread began
 * (with the wall-clock microsecond QEMU stamped), and which of them a {@code mark_postcopy_blocktime_end}
 * found a vCPU still waiting on ({@code affected_cpu: 1}) — the faults QEMU's total counts, with
 * the duration QEMU's own timestamps give them.
 *
 * <p>QEMU keeps one outstanding fault per vCPU and matches the end by page, so a fault whose
 * wake-up races its bookkeeping (the woken vCPU faults again before the placing thread marks the
 * end) is not counted; neither is one whose page arrived before QEMU checked (already_received).
 */
final class QemuBlocktimeTrace {
    private static final Pattern LINE = Pattern.compile(
            "^\\d+@(\\d+)\\.(\\d{6}):mark_postcopy_blocktime_(begin|end) addr: 0x([0-9a-f]+).*?(already_received|affected_cpu): (\\d+)");

    /** Durations (µs, QEMU's clock) of the faults QEMU counted, by page address, oldest first. */
    private final Map<Long, ArrayDeque<Long>> counted = new HashMap<>();
    int begun;
    int alreadyReceived;
    int countedFaults;
    long countedMicros;

    static QemuBlocktimeTrace read(Path log) throws IOException {
        QemuBlocktimeTrace t = new QemuBlocktimeTrace();
        Map<Long, Long> begin = new HashMap<>();
        for (String l : Files.readAllLines(log)) {
            Matcher m = LINE.matcher(l);
            if (!m.find()) {
                continue;
            }
            long micros = Long.parseLong(m.group(1)) * 1_000_000 + Long.parseLong(m.group(2));
            long page = Long.parseUnsignedLong(m.group(4), 16);
            if (m.group(3).equals("begin")) {
                t.begun++;
                if (m.group(6).equals("1")) {
                    t.alreadyReceived++;
                } else {
                    begin.put(page, micros);
                }
            } else if (Integer.parseInt(m.group(6)) > 0 && begin.containsKey(page)) {
                long d = micros - begin.remove(page);
                t.counted.computeIfAbsent(page, k -> new ArrayDeque<>()).add(d);
                t.countedFaults++;
                t.countedMicros += d;
            }
        }
        return t;
    }

    /** Takes the oldest counted fault on {@code page}: its duration in µs by QEMU's clock, or -1 if QEMU counted none (left) there. */
    long take(long page) {
        ArrayDeque<Long> d = counted.get(page);
        return d == null || d.isEmpty() ? -1 : d.poll();
    }
}
