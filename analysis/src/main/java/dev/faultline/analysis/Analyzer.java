package dev.faultline.analysis;

import dev.faultline.core.trace.EventKind;
import dev.faultline.core.trace.RegionInfo;
import dev.faultline.core.trace.TraceEvent;
import dev.faultline.core.trace.TraceReader;
import dev.faultline.core.uffd.RegisterMode;
import dev.faultline.core.uffd.ResolveIoctl;
import org.HdrHistogram.Histogram;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Reads a trace or replay results file batch by batch and folds every PAGEFAULT row into its
 * group ({@link GroupKey}), the per-run histograms, the working set and the address maps. Memory
 * stays bounded whatever the file's length: histograms and grids have fixed sizes, the working set
 * is a bit per page of the regions. The row loop allocates only when consecutive rows change group.
 */
public final class Analyzer {
    private Analyzer() {
    }

    /** Analyzes {@code file}, splitting groups by {@code by}. */
    public static TraceAnalysis analyze(Path file, By by) throws IOException {
        try (TraceReader r = TraceReader.open(file)) {
            List<RegionInfo> regions = r.header().regions();
            long[] regionLength = new long[regions.size()];
            String[] regionMode = new String[regions.size()];
            for (RegionInfo g : regions) {
                regionLength[g.id()] = g.length();
                regionMode[g.id()] = g.modes();
            }
            Map<GroupKey, GroupStats> groups = new HashMap<>();
            Map<GroupKey, Map<Integer, Histogram>> runs = new TreeMap<>();
            WorkingSet ws = new WorkingSet();
            Map<Integer, TimeGrid> maps = new TreeMap<>();
            TraceEvent e = new TraceEvent();
            long events = 0;
            int firstRun = Integer.MAX_VALUE;
            // the previous row's group: rows come in long stretches of one group, so the maps are
            // consulted (and a key allocated) only when the group changes
            ResolveIoctl lastIoctl = null;
            String lastBackend = null;
            int lastPage = -1;
            long lastPart = Long.MIN_VALUE;
            int lastRun = Integer.MIN_VALUE;
            GroupStats g = null;
            Histogram h = null;
            while (r.nextBatch()) {
                int n = r.batchRows();
                events += n;
                for (int i = 0; i < n; i++) {
                    r.read(i, e);
                    if (e.kind != EventKind.PAGEFAULT) {
                        continue;
                    }
                    String backend = r.backend(i); // interned by the reader's dictionary: == is enough
                    int pageSize = r.pageSize(i);
                    int run = Math.max(0, e.run);
                    long part = switch (by) {
                        case NONE -> 0;
                        case THREAD -> e.tid;
                        case RUN -> run;
                        case REGION, MODE -> e.region;
                    };
                    if (e.ioctl != lastIoctl || backend != lastBackend || pageSize != lastPage || part != lastPart) {
                        GroupKey k = new GroupKey(e.ioctl.name(), pageSize, backend, partLabel(by, e, regionMode));
                        g = groups.computeIfAbsent(k, GroupStats::new);
                        lastRun = Integer.MIN_VALUE; // look the run histogram up again too
                    }
                    if (run != lastRun || e.ioctl != lastIoctl || backend != lastBackend || pageSize != lastPage) {
                        h = runs.computeIfAbsent(new GroupKey(e.ioctl.name(), pageSize, backend, ""), x -> new TreeMap<>())
                                .computeIfAbsent(run, x -> new Histogram(3));
                        firstRun = Math.min(firstRun, run);
                    }
                    lastIoctl = e.ioctl;
                    lastBackend = backend;
                    lastPage = pageSize;
                    lastPart = part;
                    lastRun = run;
                    g.add(e.tFault, e.tRead, e.tResolveEnd, e.tWake);
                    if (e.tFault != TraceEvent.UNKNOWN && e.tWake != TraceEvent.UNKNOWN) {
                        h.recordValue(Math.max(1, e.tWake - e.tFault));
                    } else if (e.tRead != TraceEvent.UNKNOWN && e.tResolveEnd != TraceEvent.UNKNOWN) {
                        h.recordValue(Math.max(1, e.tResolveEnd - e.tRead));
                    }
                    if (run == firstRun) { // the working set and the address map describe one pass: the first run
                        ws.add(e.region, e.offset / Math.max(1, pageSize), e.tid);
                        long t = e.tFault != TraceEvent.UNKNOWN ? e.tFault : e.tRead;
                        if (t != TraceEvent.UNKNOWN && e.region >= 0 && e.region < regionLength.length) {
                            int band = (int) (e.offset * TraceAnalysis.ADDRESS_ROWS / Math.max(1, regionLength[e.region]));
                            maps.computeIfAbsent(e.region, k -> new TimeGrid(TraceAnalysis.ADDRESS_ROWS)).add(t, band);
                        }
                    }
                }
            }
            List<GroupStats> list = new ArrayList<>(groups.values());
            list.sort((a, b) -> a.key().compareTo(b.key()));
            return new TraceAnalysis(file, r.header(), r.footer(), by, List.copyOf(list), runs, ws, maps, events, r.recovered());
        }
    }

    private static String partLabel(By by, TraceEvent e, String[] regionMode) {
        return switch (by) {
            case NONE -> "";
            case THREAD -> "tid=" + e.tid;
            case RUN -> "run=" + Math.max(0, e.run);
            case REGION -> "region=" + e.region;
            case MODE -> "mode=" + (e.region >= 0 && e.region < regionMode.length ? regionMode[e.region]
                    : RegisterMode.names(0));
        };
    }
}
