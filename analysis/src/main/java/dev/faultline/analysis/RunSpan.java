package dev.faultline.analysis;

/**
 * One group's faults in one run, as a whole: how many, the bytes their pages hold, and the time
 * from the first fault's start to the last fault's resolution. What per-MiB and time-to-populate
 * figures come from, so that 4K and 2M pages compare on the work done rather than per fault.
 *
 * <p>Invariant: {@code first <= last} when both are known; either is {@link Long#MIN_VALUE} when no
 * row of the group had that time (then {@link #nanos()} is 0).
 *
 * @param faults fault rows
 * @param bytes  the sum of their page sizes: the memory those faults populated
 * @param first  the earliest fault time (t_fault, else t_read), ns
 * @param last   the latest resolution (t_wake, else t_resolve_end), ns
 */
public record RunSpan(long faults, long bytes, long first, long last) {
    private static final double MIB = 1024.0 * 1024.0;

    /** From the first fault to the last resolution, ns; 0 when either end is unknown. */
    public long nanos() {
        return first == Long.MIN_VALUE || last == Long.MIN_VALUE ? 0 : Math.max(0, last - first);
    }

    /** The memory populated, in MiB. */
    public double mib() {
        return bytes / MIB;
    }

    /** Nanoseconds per MiB populated; 0 when unknown. */
    public double nanosPerMib() {
        return bytes == 0 ? 0 : nanos() / mib();
    }

    /** {@code figure} of each run whose time is known ({@link #nanos()} above 0), ascending. */
    public static double[] sorted(java.util.Collection<RunSpan> runs, java.util.function.ToDoubleFunction<RunSpan> figure) {
        return runs.stream().filter(s -> s.nanos() > 0).mapToDouble(figure).sorted().toArray();
    }

    /** The median of {@code figure} over the runs whose time is known; NaN when no run's is. */
    public static double median(java.util.Collection<RunSpan> runs, java.util.function.ToDoubleFunction<RunSpan> figure) {
        double[] v = sorted(runs, figure);
        return v.length == 0 ? Double.NaN : Comparison.median(v);
    }

    /** Both spans as one: counts added, the earlier first and the later last. */
    public RunSpan plus(RunSpan o) {
        return new RunSpan(faults + o.faults, bytes + o.bytes, minKnown(first, o.first), Math.max(last, o.last));
    }

    private static long minKnown(long a, long b) {
        return a == Long.MIN_VALUE ? b : b == Long.MIN_VALUE ? a : Math.min(a, b);
    }
}
