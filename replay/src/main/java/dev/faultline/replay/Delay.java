package dev.faultline.replay;

import java.util.Locale;

/**
 * The service time a replayed handler waits between reading a fault and its resolving ioctl: the
 * handler's own work in production (a network round trip to a migration source, reading a page
 * image) that a replay on local memory would otherwise leave out.
 *
 * <ul>
 *   <li>{@link Kind#FIXED}: {@link #nanos()} before every fault (0: none);</li>
 *   <li>{@link Kind#RECORDED}: each fault waits what the captured handler took for it, read to
 *       ioctl start ({@code t_resolve_start - t_read});</li>
 *   <li>{@link Kind#P50}, {@link Kind#P99}: every fault waits that percentile of the trace's
 *       read-to-ioctl times;</li>
 *   <li>{@link Kind#DIST}: each fault waits a time drawn from them (seeded: the same draws every run).</li>
 * </ul>
 */
public record Delay(Kind kind, long nanos) {
    /** How the per-fault delay is chosen. */
    public enum Kind { FIXED, RECORDED, P50, P99, DIST }

    /** No delay. */
    public static final Delay NONE = new Delay(Kind.FIXED, 0);

    /** A fixed delay of {@code nanos}. */
    public static Delay fixed(long nanos) {
        return new Delay(Kind.FIXED, nanos);
    }

    /** Whether the trace decides the delay (it must then hold handler service times). */
    public boolean fromTrace() {
        return kind != Kind.FIXED;
    }

    /** {@code recorded}, {@code p50}, {@code p99}, {@code dist}, or the fixed delay in ns. */
    public String label() {
        return kind == Kind.FIXED ? nanos + "ns" : kind.name().toLowerCase(Locale.ROOT);
    }

    /** The word for a kind the trace decides, or null if {@code word} is not one. */
    public static Kind kindOf(String word) {
        return switch (word.trim().toLowerCase(Locale.ROOT)) {
            case "recorded" -> Kind.RECORDED;
            case "p50" -> Kind.P50;
            case "p99" -> Kind.P99;
            case "dist" -> Kind.DIST;
            default -> null;
        };
    }
}
