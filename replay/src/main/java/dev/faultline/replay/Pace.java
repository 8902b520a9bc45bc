package dev.faultline.replay;

import java.util.Locale;

/**
 * How fast the faulting threads replay their touches: {@link #FULL} as fast as the kernel allows,
 * or the recorded inter-arrival gaps divided by {@link #factor()} ({@code recorded} is factor 1,
 * {@code 2x} twice as fast, {@code 0.5x} half as fast).
 *
 * @param factor 0 for full speed, else a positive speed factor
 */
public record Pace(double factor) {
    /** As fast as the kernel allows: no waiting between touches. */
    public static final Pace FULL = new Pace(0);
    /** The recorded gaps, unchanged. */
    public static final Pace RECORDED = new Pace(1);

    public Pace {
        if (!(factor >= 0) || Double.isInfinite(factor)) {
            throw new IllegalArgumentException("a pace factor must be a positive number, not " + factor);
        }
    }

    /**
     * Parses {@code full}, {@code recorded}, or a speed factor such as {@code 2}, {@code 2x}, {@code 0.5x}.
     *
     * @throws IllegalArgumentException with the accepted forms
     */
    public static Pace parse(String s) {
        String t = s.trim().toLowerCase(Locale.ROOT);
        switch (t) {
            case "full" -> {
                return FULL;
            }
            case "recorded" -> {
                return RECORDED;
            }
            default -> {
                String n = t.endsWith("x") ? t.substring(0, t.length() - 1) : t;
                try {
                    double f = Double.parseDouble(n);
                    if (f > 0 && !Double.isInfinite(f)) {
                        return new Pace(f);
                    }
                } catch (NumberFormatException ignored) {
                    // fall through to the one message
                }
                throw new IllegalArgumentException("--pace takes full, recorded or a speed factor such as 2x or 0.5x, not '" + s + "'");
            }
        }
    }

    /** Whether touches wait for their recorded time. */
    public boolean paced() {
        return factor > 0;
    }

    /** The nanoseconds to wait, from the start, for a touch recorded {@code recordedNanos} after the start. */
    public long scale(long recordedNanos) {
        return factor > 0 ? (long) (recordedNanos / factor) : 0;
    }

    /** {@code full}, {@code recorded} or {@code 2x}. */
    public String label() {
        if (factor == 0) {
            return "full";
        }
        if (factor == 1) {
            return "recorded";
        }
        return (factor == Math.rint(factor) ? Long.toString((long) factor) : Double.toString(factor)) + "x";
    }
}
