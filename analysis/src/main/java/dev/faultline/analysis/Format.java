package dev.faultline.analysis;

import java.util.Locale;

/** Human units for the report and the charts: nanoseconds as {@code 12.3 µs}, page sizes as {@code 2M}. */
public final class Format {
    private Format() {
    }

    /** {@code 850 ns}, {@code 12.3 µs}, {@code 4.56 ms}, {@code 1.20 s}. */
    public static String nanos(double ns) {
        if (ns < 1_000) {
            return String.format(Locale.ROOT, "%.0f ns", ns);
        }
        if (ns < 1_000_000) {
            return String.format(Locale.ROOT, ns < 10_000 ? "%.2f µs" : ns < 100_000 ? "%.1f µs" : "%.0f µs", ns / 1e3);
        }
        if (ns < 1_000_000_000) {
            return String.format(Locale.ROOT, ns < 10_000_000 ? "%.2f ms" : ns < 100_000_000 ? "%.1f ms" : "%.0f ms", ns / 1e6);
        }
        return String.format(Locale.ROOT, "%.2f s", ns / 1e9);
    }

    /** MiB as {@code 1,024}, {@code 15.6} or {@code 0.50}: three figures or whole MiB. */
    public static String mib(double mib) {
        return String.format(Locale.ROOT, mib >= 100 ? "%,.0f" : mib >= 10 ? "%.1f" : "%.2f", mib);
    }

    /** {@code 4K}, {@code 2M}, {@code 1G}. */
    public static String pageSize(long bytes) {
        if (bytes >= 1L << 30 && bytes % (1L << 30) == 0) {
            return (bytes >> 30) + "G";
        }
        if (bytes >= 1L << 20 && bytes % (1L << 20) == 0) {
            return (bytes >> 20) + "M";
        }
        if (bytes >= 1L << 10 && bytes % (1L << 10) == 0) {
            return (bytes >> 10) + "K";
        }
        return bytes + "B";
    }
}
