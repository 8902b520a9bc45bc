package dev.faultline.analysis;

import dev.faultline.core.trace.EventKind;
import dev.faultline.core.trace.FaultTimes;
import dev.faultline.core.trace.ParallelTasks;
import dev.faultline.core.trace.RegionInfo;
import dev.faultline.core.trace.TraceEvent;
import dev.faultline.core.trace.TraceReader;
import dev.faultline.core.uffd.RegisterMode;
import dev.faultline.core.uffd.ResolveIoctl;
import org.HdrHistogram.Histogram;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Reads a trace or replay results file batch by batch and folds every PAGEFAULT row into its
 * group ({@link GroupKey}), the per-run histograms, the working set and the address maps.
 *
 * <p>Memory stays bounded whatever the file's length: histograms and time grids have fixed sizes,
 * the working set is a bit per page of the regions. A complete file's batches are shared out
 * among up to {@link #THREADS} threads, each with a reader of its own (ZSTD decoding is most of
 * the cost), and the shares merged; a recovered file is read in order on one thread. The row loop
 * allocates only when consecutive rows change group.
 */
public final class Analyzer {
    /** Threads at most: one per core, no more than 4. */
    static final int THREADS = Math.min(4, Runtime.getRuntime().availableProcessors());

    private Analyzer() {
    }

    /** Analyzes {@code file} (a trace, replay results, or a JMH JSON result file), splitting trace groups by {@code by}. */
    public static TraceAnalysis analyze(Path file, By by) throws IOException {
        if (java.nio.file.Files.isRegularFile(file) && JmhResults.looksLikeJson(file)) {
            return JmhResults.analyze(file);
        }
        try (TraceReader r = TraceReader.open(file)) {
            int batches = r.batchCount();
            Share whole;
            if (batches < 2 || THREADS < 2) {
                whole = new Share(r, by);
                while (r.nextBatch()) {
                    whole.batch(r);
                }
            } else {
                r.loadBatch(0);
                whole = new Share(r, by); // learns the file's first time and run from batch 0
                whole.batch(r);
                whole = shareOut(file, by, batches, whole);
            }
            List<GroupStats> list = new ArrayList<>(whole.groups.values());
            list.sort((a, b) -> a.key().compareTo(b.key()));
            Map<Integer, String> names = ThreadNames.of(r.footer());
            Blocktime.Result blocked = whole.blocktime.isEmpty() ? null
                    : whole.blocktime.result(ThreadNames.vcpus(r.header()), names);
            return new TraceAnalysis(file, r.header(), r.footer(), by, List.copyOf(list), whole.runs(list), whole.bySource(),
                    whole.spans(), whole.ws, whole.maps,
                    whole.events, r.recovered(), blocked, names);
        }
    }

    /** Batches 1.. dealt round-robin to THREADS readers of the file, merged into {@code first}. */
    private static Share shareOut(Path file, By by, int batches, Share first) throws IOException {
        int n = Math.min(THREADS, batches - 1);
        List<Integer> parts = java.util.stream.IntStream.range(0, n).boxed().toList();
        for (Share s : ParallelTasks.map(parts, n, "faultline-analyze", "analysis of " + file, part -> {
            try (TraceReader r = TraceReader.open(file)) {
                Share share = new Share(r, by, first.start, first.firstRun);
                for (int b = 1 + part; b < batches; b += n) {
                    r.loadBatch(b);
                    share.batch(r);
                }
                return share;
            }
        })) {
            first.merge(s);
        }
        return first;
    }

    /** What one thread has folded from its batches. */
    private static final class Share {
        final By by;
        final long[] regionLength;
        final double[] bandsPerByte;
        final String[] regionMode;
        final Map<GroupKey, GroupStats> groups = new HashMap<>();
        // per group (without its part) and run, by latency definition: the group's own is picked at the end
        final Map<GroupKey, Map<Integer, Histogram>> runsEndToEnd = new TreeMap<>();
        final Map<GroupKey, Map<Integer, Histogram>> runsFaultToResolve = new TreeMap<>();
        final Map<GroupKey, Map<Integer, Histogram>> runsService = new TreeMap<>();
        // per group (without its part) and run: {faults, bytes, first start, last end}
        final Map<GroupKey, Map<Integer, long[]>> spans = new TreeMap<>();
        final Blocktime blocktime;
        final WorkingSet ws = new WorkingSet();
        final Map<Integer, TimeGrid> maps = new TreeMap<>();
        final TimeGrid[] addressMaps;
        final TraceEvent e = new TraceEvent();
        long start = Long.MIN_VALUE;  // the file's first fault time: every time grid starts there
        int firstRun = Integer.MIN_VALUE; // the working set and the address map describe one pass: the file's first run
        long events;
        // the previous row's group: rows come in long stretches of one group, so the maps are
        // consulted (and a key allocated) only when the group changes
        ResolveIoctl lastIoctl;
        String lastBackend;
        int lastPage = -1;
        int pageShift = 12;
        long lastPart = Long.MIN_VALUE;
        int lastRun = Integer.MIN_VALUE;
        GroupStats g;
        GroupKey runKey;
        Histogram hEndToEnd;
        Histogram hFaultToResolve;
        Histogram hService;
        long[] span;

        Share(TraceReader r, By by) {
            this.by = by;
            List<RegionInfo> regions = r.header().regions();
            regionLength = new long[regions.size()];
            bandsPerByte = new double[regions.size()];
            regionMode = new String[regions.size()];
            for (RegionInfo info : regions) {
                regionLength[info.id()] = info.length();
                bandsPerByte[info.id()] = (double) TraceAnalysis.ADDRESS_ROWS / Math.max(1, info.length());
                regionMode[info.id()] = info.modes();
            }
            addressMaps = new TimeGrid[regions.size()];
            blocktime = new Blocktime(overlaps(r.header()) ? Blocktime.MAX_INTERVALS / THREADS : 0);
        }

        /**
         * Whether the blocked time's overlap is worth its memory: for a passive capture (a production
         * handler such as QEMU, whose own blocktime it is checked against) or a replay of one.
         */
        private static boolean overlaps(dev.faultline.core.trace.TraceHeader h) {
            String source = h.source();
            String recorded = h.extra().getOrDefault("trace_source", "");
            return isPassive(source) || isPassive(recorded);
        }

        private static boolean isPassive(String source) {
            return "ebpf".equals(source) || "bpftrace".equals(source);
        }

        Share(TraceReader r, By by, long start, int firstRun) {
            this(r, by);
            this.start = start;
            this.firstRun = firstRun;
        }

        void batch(TraceReader r) {
            int n = r.batchRows();
            events += n;
            for (int i = 0; i < n; i++) {
                r.readForAnalysis(i, e);
                if (e.kind != EventKind.PAGEFAULT) {
                    if (e.kind.isSummary()) {
                        summaryRow(r, i);
                    }
                    continue;
                }
                long t = FaultTimes.start(e.tFault, e.tRead);
                int run = Math.max(0, e.run);
                if (firstRun == Integer.MIN_VALUE) {
                    firstRun = run;
                }
                if (start == Long.MIN_VALUE && t != TraceEvent.UNKNOWN) {
                    start = t;
                }
                row(r, i, run, t);
            }
        }

        private void row(TraceReader r, int i, int run, long t) {
            String backend = r.backend(i); // interned by the reader's dictionary: == is enough
            int pageSize = r.pageSize(i);
            long part = switch (by) {
                case NONE -> 0;
                case THREAD -> e.tid;
                case RUN -> run;
                case REGION, MODE -> e.region;
            };
            if (e.ioctl != lastIoctl || backend != lastBackend || pageSize != lastPage || part != lastPart) {
                GroupKey k = new GroupKey(e.ioctl.name(), pageSize, backend, partLabel(by, e, regionMode));
                g = groups.computeIfAbsent(k, key -> new GroupStats(key, start));
                runKey = new GroupKey(e.ioctl.name(), pageSize, backend, "");
                pageShift = Integer.numberOfTrailingZeros(Math.max(1, pageSize)); // page sizes are powers of two
                lastRun = Integer.MIN_VALUE; // look the run histograms up again too
            }
            if (run != lastRun) {
                hEndToEnd = null;
                hFaultToResolve = null;
                hService = null;
                span = spans.computeIfAbsent(runKey, x -> new TreeMap<>()).computeIfAbsent(run, x -> newSpan());
            }
            lastIoctl = e.ioctl;
            lastBackend = backend;
            lastPage = pageSize;
            lastPart = part;
            lastRun = run;
            g.add(e.tFault, e.tRead, e.tResolveEnd, e.tWake);
            addToSpan(span, 1, pageSize, t, FaultTimes.end(e.tResolveEnd, e.tWake));
            long endToEnd = FaultTimes.endToEnd(e.tFault, e.tWake);
            if (endToEnd != TraceEvent.UNKNOWN) {
                if (hEndToEnd == null) {
                    hEndToEnd = runHistogram(runsEndToEnd, runKey, run);
                }
                hEndToEnd.recordValue(endToEnd);
            }
            long faultToResolve = FaultTimes.faultToResolve(e.tFault, e.tResolveEnd);
            if (faultToResolve != TraceEvent.UNKNOWN) {
                if (hFaultToResolve == null) {
                    hFaultToResolve = runHistogram(runsFaultToResolve, runKey, run);
                }
                hFaultToResolve.recordValue(faultToResolve);
            }
            long service = FaultTimes.service(e.tRead, e.tResolveEnd);
            if (service != TraceEvent.UNKNOWN) {
                if (hService == null) {
                    hService = runHistogram(runsService, runKey, run);
                }
                hService.recordValue(service);
                if (run == firstRun && e.ioctl != ResolveIoctl.NONE) {
                    blocktime.add(e.tid, e.tFault, e.tRead, e.tResolveEnd);
                }
            }
            if (run == firstRun) {
                ws.add(e.region, e.offset >>> pageShift, e.tid);
                if (t != TraceEvent.UNKNOWN && e.region >= 0 && e.region < regionLength.length) {
                    TimeGrid map = addressMaps[e.region];
                    if (map == null) {
                        map = new TimeGrid(TraceAnalysis.ADDRESS_ROWS, start);
                        addressMaps[e.region] = map;
                        maps.put(e.region, map);
                    }
                    map.add(t, (int) (e.offset * bandsPerByte[e.region]));
                }
            }
        }

        private static long[] newSpan() {
            return new long[] {0, 0, Long.MAX_VALUE, Long.MIN_VALUE};
        }

        private static void addToSpan(long[] span, long faults, long pageSize, long from, long to) {
            span[0] += faults;
            span[1] += faults * pageSize;
            if (from != TraceEvent.UNKNOWN) {
                span[2] = Math.min(span[2], from);
            }
            if (to != TraceEvent.UNKNOWN) {
                span[3] = Math.max(span[3], to);
            }
        }

        /** Per group key (without part) and run, the faults' span. */
        Map<GroupKey, Map<Integer, RunSpan>> spans() {
            Map<GroupKey, Map<Integer, RunSpan>> out = new TreeMap<>();
            spans.forEach((k, byRun) -> byRun.forEach((run, s) -> out.computeIfAbsent(k, x -> new TreeMap<>())
                    .put(run, new RunSpan(s[0], s[1], s[2] == Long.MAX_VALUE ? Long.MIN_VALUE : s[2], s[3]))));
            return out;
        }

        private static Histogram runHistogram(Map<GroupKey, Map<Integer, Histogram>> runs, GroupKey key, int run) {
            return runs.computeIfAbsent(key, x -> new TreeMap<>()).computeIfAbsent(run, x -> new Histogram(3));
        }

        /** A summary file's row: a group's faults over an interval, pushes counted, or a thread's blocked time. */
        private void summaryRow(TraceReader r, int i) {
            switch (e.kind) {
                case FAULT_HISTOGRAM -> {
                    GroupKey k = new GroupKey(e.ioctl.name(), r.pageSize(i), r.backend(i), partLabel(by, e, regionMode));
                    GroupStats gs = groups.computeIfAbsent(k, key -> new GroupStats(key, start));
                    Histogram latency = decode(e.histLatency);
                    Histogram service = decode(e.histService);
                    Histogram endToEnd = decode(e.histEndToEnd);
                    gs.addSummary(e.count, e.tRead, e.tResolveEnd, latency, decode(e.histQueue), service, endToEnd,
                            decode(e.histWake));
                    GroupKey rk = new GroupKey(e.ioctl.name(), r.pageSize(i), r.backend(i), "");
                    int run = Math.max(0, e.run); // a fleet summary's rows are one per trace and run
                    if (endToEnd != null) {
                        runHistogram(runsEndToEnd, rk, run).add(endToEnd);
                    }
                    if (latency != null) {
                        runHistogram(runsFaultToResolve, rk, run).add(latency);
                    }
                    if (service != null) {
                        runHistogram(runsService, rk, run).add(service);
                    }
                    addToSpan(spans.computeIfAbsent(rk, x -> new TreeMap<>()).computeIfAbsent(run, x -> newSpan()), e.count,
                            r.pageSize(i), e.tRead, e.tResolveEnd);
                    lastIoctl = null; // the row cache no longer holds
                }
                case THREAD_BLOCKED -> blocktime.addSummary(e.tid, e.count, e.totalNanos, e.totalFaultNanos, e.countTimed);
                default -> { }
            }
        }

        private static Histogram decode(byte[] encoded) {
            if (encoded == null) {
                return null;
            }
            try {
                return Histogram.decodeFromCompressedByteBuffer(java.nio.ByteBuffer.wrap(encoded), 0);
            } catch (java.util.zip.DataFormatException | RuntimeException ex) {
                throw new UncheckedIOException(new dev.faultline.core.trace.TraceFormatException(
                        "a summary row's histogram is damaged: " + ex.getMessage(), ex));
            }
        }

        /** Per group key (without part), the run histograms of the latency definition its groups report. */
        Map<GroupKey, Map<Integer, Histogram>> runs(List<GroupStats> list) {
            Map<GroupKey, LatencySource> sources = new HashMap<>();
            for (GroupStats gs : list) {
                GroupKey k = new GroupKey(gs.key().ioctl(), gs.key().pageSize(), gs.key().backend(), "");
                sources.merge(k, gs.source(), (a, b) -> a.ordinal() <= b.ordinal() ? a : b);
            }
            Map<GroupKey, Map<Integer, Histogram>> out = new TreeMap<>();
            sources.forEach((k, source) -> {
                Map<Integer, Histogram> byRun = switch (source) {
                    case END_TO_END -> runsEndToEnd.get(k);
                    case FAULT_TO_RESOLVE -> runsFaultToResolve.get(k);
                    case SERVICE -> runsService.get(k);
                };
                if (byRun != null) {
                    out.put(k, byRun);
                }
            });
            return out;
        }

        /** Per latency definition, group key (without part) and run, the histograms of every definition the rows allow. */
        Map<LatencySource, Map<GroupKey, Map<Integer, Histogram>>> bySource() {
            Map<LatencySource, Map<GroupKey, Map<Integer, Histogram>>> out = new java.util.EnumMap<>(LatencySource.class);
            out.put(LatencySource.END_TO_END, runsEndToEnd);
            out.put(LatencySource.FAULT_TO_RESOLVE, runsFaultToResolve);
            out.put(LatencySource.SERVICE, runsService);
            return out;
        }

        void merge(Share o) {
            events += o.events;
            blocktime.merge(o.blocktime);
            mergeRuns(runsEndToEnd, o.runsEndToEnd);
            mergeRuns(runsFaultToResolve, o.runsFaultToResolve);
            mergeRuns(runsService, o.runsService);
            o.spans.forEach((k, byRun) -> {
                Map<Integer, long[]> mine = spans.computeIfAbsent(k, x -> new TreeMap<>());
                byRun.forEach((run, s) -> mine.merge(run, s, (a, b) -> {
                    a[0] += b[0];
                    a[1] += b[1];
                    a[2] = Math.min(a[2], b[2]);
                    a[3] = Math.max(a[3], b[3]);
                    return a;
                }));
            });
            o.groups.forEach((k, s) -> groups.merge(k, s, (mine, theirs) -> {
                mine.merge(theirs);
                return mine;
            }));
            ws.merge(o.ws);
            o.maps.forEach((region, grid) -> maps.merge(region, grid, (mine, theirs) -> {
                mine.merge(theirs);
                return mine;
            }));
        }
    }

    private static void mergeRuns(Map<GroupKey, Map<Integer, Histogram>> into, Map<GroupKey, Map<Integer, Histogram>> from) {
        from.forEach((k, byRun) -> {
            Map<Integer, Histogram> mine = into.computeIfAbsent(k, x -> new TreeMap<>());
            byRun.forEach((run, hist) -> mine.merge(run, hist, (a, b) -> {
                a.add(b);
                return a;
            }));
        });
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
