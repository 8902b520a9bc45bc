package dev.faultline.cli;

import java.util.Locale;

/** Human formatting of sizes and durations for terminal output (binary units, three significant digits). */
final class Units {
    private Units() {
    }

    /** {@code 4096 -> "4K"}, {@code 2097152 -> "2M"}, {@code 1073741824 -> "1G"}: page sizes, as the report writes them. */
    static String pageSize(long bytes) {
        return dev.faultline.analysis.Format.pageSize(bytes);
    }

    /** {@code 1536 -> "1.50 KiB"}: file and region sizes. */
    static String bytes(long bytes) {
        if (bytes < 1024) {
            return bytes + " B";
        }
        String[] unit = {"KiB", "MiB", "GiB", "TiB"};
        double v = bytes;
        int u = -1;
        while (v >= 1024 && u < unit.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(Locale.ROOT, "%.3g %s", v, unit[u]);
    }

    /** Nanoseconds as {@code 850ns}, {@code 12.3µs}, {@code 4.56ms}, {@code 1.23s}: compact, for columns; µs as the report spells it. */
    static String nanos(long ns) {
        if (ns < 1_000) {
            return ns + "ns";
        }
        if (ns < 1_000_000) {
            return String.format(Locale.ROOT, "%.3gµs", ns / 1e3);
        }
        if (ns < 1_000_000_000) {
            return String.format(Locale.ROOT, "%.3gms", ns / 1e6);
        }
        return String.format(Locale.ROOT, "%.3gs", ns / 1e9);
    }

    /** "p50 12.3µs  p90 …  p99 …  max …" for a latency histogram in nanoseconds. */
    static String percentiles(org.HdrHistogram.Histogram h) {
        return "p50 " + nanos(h.getValueAtPercentile(50)) + "  p90 " + nanos(h.getValueAtPercentile(90))
                + "  p99 " + nanos(h.getValueAtPercentile(99)) + "  max " + nanos(h.getMaxValue());
    }

    /** Puts p50_ns, p90_ns, p99_ns and max_ns of {@code h} into a JSON summary. */
    static void putPercentiles(java.util.Map<String, Object> m, org.HdrHistogram.Histogram h) {
        m.put("p50_ns", h.getValueAtPercentile(50));
        m.put("p90_ns", h.getValueAtPercentile(90));
        m.put("p99_ns", h.getValueAtPercentile(99));
        m.put("max_ns", h.getMaxValue());
    }
}
