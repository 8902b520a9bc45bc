package dev.faultline.analysis;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A file's metadata as people read it: durations as durations, registration modes as the faults
 * they report ("missing pages", not {@code MISSING}), sizes in MiB, sources in words. What the
 * report shows; summary.json keeps the raw values.
 */
final class Words {
    private Words() {
    }

    /** What recorded the file. */
    static String source(String source) {
        return switch (source == null ? "" : source) {
            case "in-process" -> "recorded under Faultline's own handler";
            case "replay" -> "replay results";
            case "ebpf" -> "passive capture (eBPF)";
            case "bpftrace" -> "passive capture (bpftrace)";
            case "jmh" -> "JMH results";
            default -> source;
        };
    }

    /** A metadata key: {@code delay_ns} as {@code delay}, underscores as spaces. */
    static String key(String key) {
        return key.replaceFirst("_ns$", "").replace('_', ' ');
    }

    /** A metadata value: nanoseconds (keys ending in {@code _ns}) as a duration, long numbers grouped. */
    static String value(String key, String value) {
        if (value == null) {
            return "";
        }
        if (value.matches("-?\\d{1,18}")) {
            long v = Long.parseLong(value);
            if (key.endsWith("_ns")) {
                return v == 0 ? "none" : Format.nanos(v);
            }
            return Math.abs(v) >= 10_000 ? String.format(Locale.ROOT, "%,d", v) : value;
        }
        return value;
    }

    /** Registration modes ({@code MISSING|WP}) as the faults they report. */
    static String modes(String modes) {
        List<String> out = new ArrayList<>();
        for (String m : modes.split("[|, ]+")) {
            switch (m.toUpperCase(Locale.ROOT)) {
                case "" -> { }
                case "MISSING" -> out.add("missing pages");
                case "MINOR" -> out.add("minor faults (pages already in the page cache)");
                case "WP" -> out.add("writes to write-protected pages");
                default -> out.add(m);
            }
        }
        return out.isEmpty() ? "-" : String.join(", ", out);
    }

    /** A size in bytes as {@code 15.6 MiB}, {@code 2.00 GiB} or {@code 4 KiB}. */
    static String bytes(long bytes) {
        if (bytes >= 1L << 30) {
            return String.format(Locale.ROOT, "%.2f GiB", bytes / (double) (1L << 30));
        }
        if (bytes >= 1L << 20) {
            return Format.mib(bytes / (double) (1L << 20)) + " MiB";
        }
        return bytes >= 1024 ? String.format(Locale.ROOT, "%.0f KiB", bytes / 1024.0) : bytes + " bytes";
    }
}
