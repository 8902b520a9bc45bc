package dev.faultline.analysis;

import dev.faultline.core.trace.FaultTimes;
import dev.faultline.core.trace.TraceEvent;
import org.HdrHistogram.Histogram;

/**
 * Everything kept about one group's faults: histograms of latency and of its decomposition, the
 * count and time span, faults over time and latency over time. Bounded memory; {@link #add}
 * allocates nothing.
 *
 * <p>One latency per group, the first of these its rows have ({@link #latencySource()} says which):
 * {@link LatencySource#END_TO_END} {@code t_wake - t_fault} (recordings and replays: the faulting
 * thread is ours), {@link LatencySource#FAULT_TO_RESOLVE} {@code t_resolve_end - t_fault} (passive
 * captures: page_fault_user to the resolving ioctl's exit), {@link LatencySource#SERVICE}
 * {@code t_resolve_end - t_read} (faults with no entry time, e.g. KVM's). The split is measured
 * wherever its two ends are known: queue {@code t_read - t_fault}, service {@code t_resolve_end -
 * t_read}, wake {@code t_wake - t_resolve_end}.
 */
public final class GroupStats {
    /** Rows of the latency heatmap: log2 buckets of nanoseconds, 2^0 .. 2^39 (about 9 minutes). */
    public static final int LOG2_ROWS = 40;

    private final GroupKey key;
    private final Histogram endToEnd = new Histogram(3);
    private final Histogram faultToResolve = new Histogram(3);
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
        faultToResolve.add(o.faultToResolve);
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

    /**
     * Counts {@code count} faults a summary row stands for, seen from {@code from} to {@code to} (ns),
     * with their histograms (null where the row has none): fault -> resolve, queue, service.
     */
    public void addSummary(long count, long from, long to, Histogram latency, Histogram queueTimes, Histogram serviceTimes) {
        addSummary(count, from, to, latency, queueTimes, serviceTimes, null, null);
    }

    /** As {@link #addSummary(long, long, long, Histogram, Histogram, Histogram)}, with end to end and wake (fleet summaries of replays). */
    public void addSummary(long count, long from, long to, Histogram latency, Histogram queueTimes, Histogram serviceTimes,
                           Histogram endToEndTimes, Histogram wakeTimes) {
        if (endToEndTimes != null) {
            endToEnd.add(endToEndTimes);
        }
        if (wakeTimes != null) {
            wake.add(wakeTimes);
        }
        faults += count;
        if (from != Long.MIN_VALUE && to != Long.MIN_VALUE) {
            first = Math.min(first, from);
            last = Math.max(last, to);
        }
        if (latency != null) {
            faultToResolve.add(latency);
        }
        if (queueTimes != null) {
            queue.add(queueTimes);
        }
        if (serviceTimes != null) {
            service.add(serviceTimes);
        }
    }

    /** Counts one fault row; times are CLOCK_MONOTONIC ns or {@link Long#MIN_VALUE} when unknown. */
    public void add(long tFault, long tRead, long tResolveEnd, long tWake) {
        faults++;
        long t = FaultTimes.start(tFault, tRead);
        if (t != TraceEvent.UNKNOWN) {
            first = Math.min(first, t);
            last = Math.max(last, t);
            faultsOverTime.add(t, 0);
        }
        record(faultToResolve, FaultTimes.faultToResolve(tFault, tResolveEnd)); // what a passive capture would measure
        record(endToEnd, FaultTimes.endToEnd(tFault, tWake));
        record(queue, FaultTimes.queue(tFault, tRead, tResolveEnd));
        record(wake, FaultTimes.wake(tRead, tResolveEnd, tWake));
        record(service, FaultTimes.service(tRead, tResolveEnd));
        long latency = FaultTimes.latency(tFault, tRead, tResolveEnd, tWake);
        if (latency != TraceEvent.UNKNOWN && t != TraceEvent.UNKNOWN) {
            latencyOverTime.add(t, 63 - Long.numberOfLeadingZeros(latency));
        }
    }

    private static void record(Histogram h, long nanos) {
        if (nanos != TraceEvent.UNKNOWN) {
            h.recordValue(nanos);
        }
    }

    public GroupKey key() {
        return key;
    }

    /** Fault rows counted. */
    public long faults() {
        return faults;
    }

    /** The latency histogram reported: of the first {@link LatencySource} any row had. */
    public Histogram latency() {
        return switch (source()) {
            case END_TO_END -> endToEnd;
            case FAULT_TO_RESOLVE -> faultToResolve;
            case SERVICE -> service;
        };
    }

    /** The definition {@link #latency()} follows. */
    public LatencySource source() {
        if (endToEnd.getTotalCount() > 0 || sourceOverride != null) {
            return LatencySource.END_TO_END;
        }
        return faultToResolve.getTotalCount() > 0 ? LatencySource.FAULT_TO_RESOLVE : LatencySource.SERVICE;
    }

    /** What {@link #latency()} measures, in words. */
    public String latencySource() {
        return sourceOverride != null ? sourceOverride : source().description();
    }

    /** Faults whose latency is known: those {@link #latency()} holds (the others count toward the split only). */
    public long timedFaults() {
        return latency().getTotalCount();
    }

    /**
     * Fault entry to the resolving ioctl's exit, over every row that has both: the latency of a
     * passive capture, and of a replay as a capture would have seen it (its wake left out).
     */
    public Histogram faultToResolve() {
        return faultToResolve;
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
