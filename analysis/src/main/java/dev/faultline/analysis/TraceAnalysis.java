package dev.faultline.analysis;

import dev.faultline.core.trace.TraceHeader;
import org.HdrHistogram.Histogram;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * What {@link Analyzer} found in one file: its header and footer, the fault groups, per run and
 * group the latency histograms (what {@code compare} bootstraps over), the working set, and the
 * address pattern per region.
 *
 * @param runs per group (without the {@code part}) and run number, the latency histogram (run 0 for a trace) of the
 *             definition the group reports ({@link GroupStats#source()})
 * @param runsBySource the same for every latency definition the rows allow (a replay's rows have all three, a
 *             capture's fault -> resolve and service): what a comparison on one definition for both sides reads
 * @param spans per group (without the {@code part}) and run, the faults' count, bytes and time from first fault to last
 *             resolution: what per-MiB and time-to-populate figures come from (empty for JMH results)
 * @param addressMaps per region id: time × offset band counts
 * @param events rows read, of every kind
 * @param recovered whether the file was read up to its last complete batch (its writer died)
 * @param blocktime the time faulting threads were blocked (QEMU's definitions), or null when no fault was resolved
 * @param threadNames the faulting threads' names by tid, where the file records them (passive captures)
 */
public record TraceAnalysis(Path file, TraceHeader header, Map<String, String> footer, By by,
                            List<GroupStats> groups, Map<GroupKey, Map<Integer, Histogram>> runs,
                            Map<LatencySource, Map<GroupKey, Map<Integer, Histogram>>> runsBySource,
                            Map<GroupKey, Map<Integer, RunSpan>> spans,
                            WorkingSet workingSet, Map<Integer, TimeGrid> addressMaps, long events,
                            boolean recovered, Blocktime.Result blocktime, Map<Integer, String> threadNames) {
    /** Whether the file is a summary (histogram rows, no row per fault: no working set or address map). */
    public boolean summary() {
        return "summary".equals(header.extra().get("detail"));
    }

    /** Per group and run, the histograms of {@code source} (empty where no row allows it). */
    public Map<GroupKey, Map<Integer, Histogram>> runs(LatencySource source) {
        return runsBySource.getOrDefault(source, Map.of());
    }

    /**
     * The latency definitions that every group with timed faults has, in {@link LatencySource}
     * order (the most complete first); empty when there is no timed fault.
     */
    public List<LatencySource> sources() {
        List<GroupKey> timed = runs.entrySet().stream().filter(e -> count(e.getValue()) > 0).map(Map.Entry::getKey).toList();
        List<LatencySource> out = new java.util.ArrayList<>();
        for (LatencySource s : LatencySource.values()) {
            if (!timed.isEmpty() && timed.stream().allMatch(k -> count(runs(s).getOrDefault(k, Map.of())) > 0)) {
                out.add(s);
            }
        }
        return out;
    }

    private static long count(Map<Integer, Histogram> byRun) {
        return byRun.values().stream().mapToLong(Histogram::getTotalCount).sum();
    }

    /** Each run's start (its earliest fault, ns), by run number, for files with more than one run; empty otherwise. */
    public Map<Integer, Long> runStarts() {
        Map<Integer, Long> out = new java.util.TreeMap<>();
        for (Map<Integer, RunSpan> byRun : spans.values()) {
            byRun.forEach((run, s) -> {
                if (s.first() != Long.MIN_VALUE) {
                    out.merge(run, s.first(), Math::min);
                }
            });
        }
        return out.size() > 1 ? out : Map.of();
    }

    /**
     * Faults per second of {@code g}: the median over runs of each run's faults over its own span,
     * first fault to last resolution (with several runs the gaps between them, where a replay did
     * other work, are left out; a fleet summary's runs are its traces). A group split by thread,
     * region … has no per-run span: its rate is over its faults' times.
     */
    public double faultsPerSecond(GroupStats g) {
        Map<Integer, RunSpan> byRun = spans.getOrDefault(new GroupKey(g.key().ioctl(), g.key().pageSize(), g.key().backend(), ""), Map.of());
        if (byRun.isEmpty() || !g.key().part().isEmpty()) {
            return g.faultsPerSecond();
        }
        double rate = RunSpan.median(byRun.values(), r -> r.faults() * 1e9 / r.nanos());
        return Double.isNaN(rate) ? g.faultsPerSecond() : rate;
    }

    /** Rows of an address map: the region's length split into this many bands. */
    public static final int ADDRESS_ROWS = 64;

    /** The same analysis, shown as {@code shownAs} (e.g. where the file will be once moved into the report). */
    public TraceAnalysis shownAs(Path shownAs) {
        return new TraceAnalysis(shownAs, header, footer, by, groups, runs, runsBySource, spans, workingSet, addressMaps, events, recovered,
                blocktime, threadNames);
    }
}
