package dev.faultline.replay;

import dev.faultline.core.trace.EventKind;
import dev.faultline.core.trace.TraceEvent;
import dev.faultline.core.trace.TraceReader;
import dev.faultline.core.uffd.ResolveIoctl;
import org.HdrHistogram.Histogram;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Latency of a replay's faults, read back from its results file: per run, and per (ioctl, page
 * size, backend) over all runs, with the decomposition into queue ({@code t_read - t_fault}),
 * service ({@code t_resolve_end - t_read}) and wake ({@code t_wake - t_resolve_end}).
 *
 * <p>Only PAGEFAULT rows whose times are all known count toward the histograms (a row whose
 * faulting thread was not ours has no t_fault); {@link Group#faults()} counts every row.
 */
public final class ReplaySummary {
    /** A histogram with three significant digits, for nanoseconds. */
    static Histogram histogram() {
        return new Histogram(3);
    }

    /** One (ioctl, page size, backend) over every measured run. */
    public record Group(ResolveIoctl ioctl, long pageSize, String backend, long faults, Histogram latency,
                        Histogram queue, Histogram service, Histogram wake) {
    }

    /** One measured run. */
    public record Run(int run, long faults, Histogram latency) {
    }

    private final List<Run> runs;
    private final List<Group> groups;

    private ReplaySummary(List<Run> runs, List<Group> groups) {
        this.runs = runs;
        this.groups = groups;
    }

    public List<Run> runs() {
        return runs;
    }

    public List<Group> groups() {
        return groups;
    }

    /** Reads every PAGEFAULT row of a results file (or a trace: everything is then run 0). */
    public static ReplaySummary read(Path results) throws IOException {
        Map<Integer, long[]> runFaults = new TreeMap<>();
        Map<Integer, Histogram> runLatency = new TreeMap<>();
        Map<String, Object[]> groups = new TreeMap<>();
        TraceEvent e = new TraceEvent();
        try (TraceReader r = TraceReader.open(results)) {
            while (r.nextBatch()) {
                for (int i = 0; i < r.batchRows(); i++) {
                    r.read(i, e);
                    if (e.kind != EventKind.PAGEFAULT) {
                        continue;
                    }
                    int run = Math.max(0, e.run);
                    runFaults.computeIfAbsent(run, k -> new long[1])[0]++;
                    Histogram rl = runLatency.computeIfAbsent(run, k -> histogram());
                    String backend = r.backend(i);
                    int pageSize = r.pageSize(i);
                    Object[] g = groups.computeIfAbsent(e.ioctl.ordinal() + "/" + pageSize + "/" + backend,
                            k -> new Object[] {e.ioctl, (long) pageSize, backend, new long[1], histogram(), histogram(),
                                    histogram(), histogram()});
                    ((long[]) g[3])[0]++;
                    if (e.tFault == TraceEvent.UNKNOWN || e.tWake == TraceEvent.UNKNOWN) {
                        continue;
                    }
                    long latency = Math.max(1, e.tWake - e.tFault);
                    rl.recordValue(latency);
                    ((Histogram) g[4]).recordValue(latency);
                    if (e.tRead != TraceEvent.UNKNOWN && e.tResolveEnd != TraceEvent.UNKNOWN) {
                        ((Histogram) g[5]).recordValue(Math.max(0, e.tRead - e.tFault));
                        ((Histogram) g[6]).recordValue(Math.max(0, e.tResolveEnd - e.tRead));
                        ((Histogram) g[7]).recordValue(Math.max(0, e.tWake - e.tResolveEnd));
                    }
                }
            }
        }
        List<Run> runs = new ArrayList<>();
        runFaults.forEach((run, n) -> runs.add(new Run(run, n[0], runLatency.get(run))));
        List<Group> out = new ArrayList<>();
        for (Object[] g : groups.values()) {
            out.add(new Group((ResolveIoctl) g[0], (Long) g[1], (String) g[2], ((long[]) g[3])[0], (Histogram) g[4],
                    (Histogram) g[5], (Histogram) g[6], (Histogram) g[7]));
        }
        out.sort(Comparator.comparing((Group g) -> g.ioctl().ordinal()).thenComparing(Group::pageSize)
                .thenComparing(Group::backend));
        return new ReplaySummary(List.copyOf(runs), List.copyOf(out));
    }
}
