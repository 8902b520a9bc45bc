package dev.faultline.analysis;

import dev.faultline.core.trace.EventKind;
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
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

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
            return new TraceAnalysis(file, r.header(), r.footer(), by, List.copyOf(list), whole.runs, whole.ws, whole.maps,
                    whole.events, r.recovered());
        }
    }

    /** Batches 1.. dealt round-robin to THREADS readers of the file, merged into {@code first}. */
    private static Share shareOut(Path file, By by, int batches, Share first) throws IOException {
        int n = Math.min(THREADS, batches - 1);
        ExecutorService pool = Executors.newFixedThreadPool(n, run -> Thread.ofPlatform().name("faultline-analyze").daemon().unstarted(run));
        try {
            List<Future<Share>> parts = new ArrayList<>();
            for (int k = 0; k < n; k++) {
                int part = k;
                parts.add(pool.submit(() -> {
                    try (TraceReader r = TraceReader.open(file)) {
                        Share s = new Share(r, by, first.start, first.firstRun);
                        for (int b = 1 + part; b < batches; b += n) {
                            r.loadBatch(b);
                            s.batch(r);
                        }
                        return s;
                    }
                }));
            }
            for (Future<Share> f : parts) {
                first.merge(f.get());
            }
            return first;
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof IOException io) {
                throw io;
            }
            if (c instanceof UncheckedIOException u) {
                throw u.getCause();
            }
            if (c instanceof RuntimeException re) {
                throw re;
            }
            throw new IOException("analysis of " + file + " failed: " + c, c);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("analysis of " + file + " interrupted", e);
        } finally {
            pool.shutdownNow();
        }
    }

    /** What one thread has folded from its batches. */
    private static final class Share {
        final By by;
        final long[] regionLength;
        final double[] bandsPerByte;
        final String[] regionMode;
        final Map<GroupKey, GroupStats> groups = new HashMap<>();
        final Map<GroupKey, Map<Integer, Histogram>> runs = new TreeMap<>();
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
        Histogram h;

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
                    continue;
                }
                long t = e.tFault != TraceEvent.UNKNOWN ? e.tFault : e.tRead;
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
                pageShift = Integer.numberOfTrailingZeros(Math.max(1, pageSize)); // page sizes are powers of two
                lastRun = Integer.MIN_VALUE; // look the run histogram up again too
            }
            if (run != lastRun) {
                h = runs.computeIfAbsent(new GroupKey(e.ioctl.name(), pageSize, backend, ""), x -> new TreeMap<>())
                        .computeIfAbsent(run, x -> new Histogram(3));
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

        void merge(Share o) {
            events += o.events;
            o.groups.forEach((k, s) -> groups.merge(k, s, (mine, theirs) -> {
                mine.merge(theirs);
                return mine;
            }));
            o.runs.forEach((k, byRun) -> {
                Map<Integer, Histogram> mine = runs.computeIfAbsent(k, x -> new TreeMap<>());
                byRun.forEach((run, hist) -> mine.merge(run, hist, (a, b) -> {
                    a.add(b);
                    return a;
                }));
            });
            ws.merge(o.ws);
            o.maps.forEach((region, grid) -> maps.merge(region, grid, (mine, theirs) -> {
                mine.merge(theirs);
                return mine;
            }));
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
