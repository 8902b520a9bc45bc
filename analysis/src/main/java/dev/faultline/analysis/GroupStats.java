package dev.faultline.analysis;

import org.HdrHistogram.Histogram;

/**
 * Everything kept about one group's faults: histograms of latency and of its decomposition, the
 * count and time span, faults over time and latency over time. Bounded memory; {@link #add}
 * allocates nothing.
 *
 * <p>Latency is {@code t_wake - t_fault} where both are known (end to end, as the faulting thread
 * saw it); rows without them (a passive capture, a handler whose faulting threads are not ours)
 * count toward {@link #service()} only, and a group with no end-to-end row reports service time as
 * its latency — {@link #latencySource()} says which.
 */
public final class GroupStats {
    /** Rows of the latency heatmap: log2 buckets of nanoseconds, 2^0 .. 2^39 (about 9 minutes). */
    public static final int LOG2_ROWS = 40;

    private final GroupKey key;
    private final Histogram endToEnd = new Histogram(3);
    private final Histogram queue = new Histogram(3);
    private final Histogram service = new Histogram(3);
    private final Histogram wake = new Histogram(3);
    private final TimeGrid latencyOverTime;
    private final TimeGrid faultsOverTime;
    private long faults;
    private String sourceOverride; // set for groups that are not faults (JMH samples)
    private long first = Long.MAX_VALUE;
    private long last = Long.MIN_VALUE;

    public GroupStats(GroupKey key) {
        this(key, Long.MIN_VALUE);
    }

    /** Stats whose time grids start at {@code start} (ns): the file's first fault, so that shares of one file merge. */
    public GroupStats(GroupKey key, long start) {
        this.key = key;
        this.latencyOverTime = new TimeGrid(LOG2_ROWS, start);
        this.faultsOverTime = new TimeGrid(1, start);
    }

    /** Adds another share of the same group (the same key, grids with the same start). */
    public void merge(GroupStats o) {
        endToEnd.add(o.endToEnd);
        queue.add(o.queue);
        service.add(o.service);
        wake.add(o.wake);
        latencyOverTime.merge(o.latencyOverTime);
        faultsOverTime.merge(o.faultsOverTime);
        faults += o.faults;
        first = Math.min(first, o.first);
        last = Math.max(last, o.last);
    }

    /**
     * Records {@code count} measurements of {@code nanos} that are not fault rows (a JMH sample or
     * iteration score), described by {@code source}: they count as latency, with no time or split.
     */
    public void addSamples(long nanos, long count, String source) {
        endToEnd.recordValueWithCount(Math.max(1, nanos), count);
        faults += count;
        sourceOverride = source;
    }

    /** Counts one fault row; times are CLOCK_MONOTONIC ns or {@link Long#MIN_VALUE} when unknown. */
    public void add(long tFault, long tRead, long tResolveEnd, long tWake) {
        faults++;
        long t = tFault != Long.MIN_VALUE ? tFault : tRead;
        if (t != Long.MIN_VALUE) {
            first = Math.min(first, t);
            last = Math.max(last, t);
            faultsOverTime.add(t, 0);
        }
        long latency = -1;
        if (tFault != Long.MIN_VALUE && tWake != Long.MIN_VALUE) {
            latency = Math.max(1, tWake - tFault);
            endToEnd.recordValue(latency);
            if (tRead != Long.MIN_VALUE && tResolveEnd != Long.MIN_VALUE) {
                queue.recordValue(Math.max(0, tRead - tFault));
                wake.recordValue(Math.max(0, tWake - tResolveEnd));
            }
        }
        if (tRead != Long.MIN_VALUE && tResolveEnd != Long.MIN_VALUE) {
            long s = Math.max(1, tResolveEnd - tRead);
            service.recordValue(s);
            if (latency < 0) {
                latency = s;
            }
        }
        if (latency > 0 && t != Long.MIN_VALUE) {
            latencyOverTime.add(t, 63 - Long.numberOfLeadingZeros(latency));
        }
    }

    public GroupKey key() {
        return key;
    }

    /** Fault rows counted. */
    public long faults() {
        return faults;
    }

    /** The latency histogram reported: end to end where any row had it, else service time. */
    public Histogram latency() {
        return endToEnd.getTotalCount() > 0 ? endToEnd : service;
    }

    /** What {@link #latency()} measures. */
    public String latencySource() {
        if (sourceOverride != null) {
            return sourceOverride;
        }
        return endToEnd.getTotalCount() > 0 ? "t_wake - t_fault" : "service: t_resolve_end - t_read";
    }

    public Histogram queue() {
        return queue;
    }

    public Histogram service() {
        return service;
    }

    public Histogram wake() {
        return wake;
    }

    /** Faults per second over the group's span (0 for a single instant). */
    public double faultsPerSecond() {
        return last > first ? (faults - 1) * 1e9 / (last - first) : 0;
    }

    /** First and last fault time (ns), or MAX/MIN_VALUE if no row had a time. */
    public long first() {
        return first;
    }

    public long last() {
        return last;
    }

    public TimeGrid latencyOverTime() {
        return latencyOverTime;
    }

    public TimeGrid faultsOverTime() {
        return faultsOverTime;
    }
}
