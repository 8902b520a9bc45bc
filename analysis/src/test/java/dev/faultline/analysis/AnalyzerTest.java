package dev.faultline.analysis;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.faultline.core.trace.Compression;
import dev.faultline.core.trace.EventKind;
import dev.faultline.core.trace.TraceEvent;
import dev.faultline.core.trace.TraceHeader;
import dev.faultline.core.trace.TraceWriter;
import dev.faultline.core.uffd.ResolveIoctl;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The analyzer on traces whose latencies are known, checked against a brute-force sort. */
class AnalyzerTest {

    /** The p-th percentile as HdrHistogram defines it: the smallest value with at least p% of the values at or below it. */
    static long exact(long[] sorted, double p) {
        int rank = (int) Math.ceil(p / 100 * sorted.length);
        return sorted[Math.max(0, rank - 1)];
    }

    @Test
    void percentilesAgreeWithABruteForceSort(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("t.arrow");
        long[] all = SyntheticTrace.write(f, 200_000, 0, 20_000, 1, 7);
        TraceAnalysis a = Analyzer.analyze(f, By.NONE);
        assertEquals(2, a.groups().size());
        for (GroupStats g : a.groups()) {
            boolean huge = g.key().ioctl().equals("CONTINUE");
            long[] mine = new long[all.length];
            int n = 0;
            for (int k = 0; k < all.length; k++) {
                if ((k % 5 == 4) == huge) {
                    mine[n++] = all[k];
                }
            }
            long[] sorted = Arrays.copyOf(mine, n);
            Arrays.sort(sorted);
            assertEquals(n, g.faults());
            Histogram h = g.latency();
            assertEquals("t_wake - t_fault", g.latencySource());
            for (double p : new double[] {1, 50, 90, 99, 99.9, 100}) {
                long want = exact(sorted, p);
                long got = h.getValueAtPercentile(p);
                // three significant digits: the histogram's bucket holding a value spans under 0.1% of it
                assertTrue(Math.abs(got - want) <= Math.max(1, want / 1000), g.key().label() + " p" + p + ": " + got + " vs " + want);
            }
            assertTrue(Math.abs(h.getMaxValue() - sorted[n - 1]) <= sorted[n - 1] / 1000);
            assertTrue(g.queue().getTotalCount() == n && g.wake().getTotalCount() == n);
        }
        assertEquals(200_000, a.workingSet().uniquePages());
        assertEquals(0, a.workingSet().refaults());
        assertEquals(3, a.workingSet().byThread().size());
    }

    @Test
    void withoutFaultTimesLatencyIsServiceTimeAndSaysSo(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("passive.arrow");
        TraceEvent e = new TraceEvent();
        try (TraceWriter w = TraceWriter.create(f, TraceHeader.now("bpftrace", "x", 0, SyntheticTrace.REGIONS), Compression.NONE)) {
            for (int k = 0; k < 100; k++) {
                e.clear();
                e.seq = k;
                e.kind = EventKind.PAGEFAULT;
                e.ioctl = ResolveIoctl.COPY;
                e.offset = (k % 50) * 4096L; // every page twice: 50 re-faults
                e.tRead = 1_000_000L * k;
                e.tResolveStart = e.tRead + 100;
                e.tResolveEnd = e.tRead + 5_000 + k;
                w.append(e);
            }
        }
        TraceAnalysis a = Analyzer.analyze(f, By.NONE);
        GroupStats g = a.groups().getFirst();
        assertEquals("service: t_resolve_end - t_read", g.latencySource());
        assertEquals(5_049, g.latency().getValueAtPercentile(50), 5);
        assertEquals(0, g.queue().getTotalCount(), "no queue without t_fault");
        assertEquals(50, a.workingSet().uniquePages());
        assertEquals(50, a.workingSet().refaults());
    }

    /** 2,000 COPY faults of 4 KiB: fault -> resolve {@code resolveNanos} + jitter, the wake {@code wakeNanos} after it (0: none recorded, as a capture). */
    private static Path timed(Path f, String source, boolean withFault, long resolveNanos, long wakeNanos) throws IOException {
        TraceEvent e = new TraceEvent();
        try (TraceWriter w = TraceWriter.create(f, TraceHeader.now(source, "x", 0, SyntheticTrace.REGIONS), Compression.NONE)) {
            for (int k = 0; k < 2000; k++) {
                e.clear();
                e.seq = k;
                e.kind = EventKind.PAGEFAULT;
                e.ioctl = ResolveIoctl.COPY;
                e.offset = k * 4096L;
                long t = 1_000_000L * k;
                e.tFault = withFault ? t : TraceEvent.UNKNOWN;
                e.tRead = t + resolveNanos / 3;
                e.tResolveStart = e.tRead + 100;
                e.tResolveEnd = t + resolveNanos + k % 100;
                e.tWake = wakeNanos > 0 ? e.tResolveEnd + wakeNanos : TraceEvent.UNKNOWN;
                w.append(e);
            }
        }
        return f;
    }

    @Test
    void aCaptureAndAReplayCompareOnTheLatencyBothHaveOrNotAtAll(@TempDir Path dir) throws IOException {
        TraceAnalysis capture = Analyzer.analyze(timed(dir.resolve("c.arrow"), "bpftrace", true, 10_000, 0), By.NONE);
        TraceAnalysis replay = Analyzer.analyze(timed(dir.resolve("r.arrow"), "replay", true, 10_000, 5_000), By.NONE);
        TraceAnalysis kvm = Analyzer.analyze(timed(dir.resolve("k.arrow"), "bpftrace", false, 10_000, 0), By.NONE);
        assertEquals(List.of(LatencySource.FAULT_TO_RESOLVE, LatencySource.SERVICE), capture.sources());
        assertEquals(List.of(LatencySource.END_TO_END, LatencySource.FAULT_TO_RESOLVE, LatencySource.SERVICE), replay.sources());

        LatencySource common = Comparison.commonSource(capture, replay, null);
        assertEquals(LatencySource.FAULT_TO_RESOLVE, common, "the capture's own, which the replay has too");
        List<Comparison.GroupComparison> same = Comparison.compare(capture, replay, common, Comparison.Settings.of(0.05));
        assertEquals(Comparison.Verdict.NO_CHANGE, same.getFirst().verdict(), same.toString());
        assertEquals(1.0, same.getFirst().changes().getFirst().ratio(), 0.01, "fault -> resolve is 10 µs on both sides");
        // on its own latency the replay would look 1.5x slower: the wake the capture cannot see
        List<Comparison.GroupComparison> mixed = Comparison.compare(capture, replay, 0.05, 1);
        assertEquals(1.5, mixed.getFirst().changes().getFirst().ratio(), 0.02);

        assertEquals(LatencySource.SERVICE, Comparison.commonSource(kvm, replay, null), "no fault entry: the handler's side only");
        IllegalArgumentException refused = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> Comparison.commonSource(capture, replay, LatencySource.END_TO_END));
        assertEquals("not both sides have t_wake - t_fault: the base has fault -> resolve, service, the candidate end to end, "
                + "fault -> resolve, service", refused.getMessage());
    }

    @Test
    void splitByRunAndJaccard(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("r.arrow");
        SyntheticTrace.write(f, 1000, 3, 20_000, 1, 1);
        TraceAnalysis byRun = Analyzer.analyze(f, By.RUN);
        assertEquals(6, byRun.groups().size(), "2 groups x 3 runs");
        assertTrue(byRun.groups().stream().anyMatch(g -> g.key().part().equals("run=2")));
        assertEquals(3, byRun.runs().values().iterator().next().size());
        assertEquals(1000, byRun.workingSet().faults(), "the working set is the first run's");

        Path g = dir.resolve("half.arrow");
        SyntheticTrace.write(g, 500, 0, 20_000, 1, 1);
        double j = byRun.workingSet().jaccard(Analyzer.analyze(g, By.NONE).workingSet());
        assertEquals(0.5, j, 1e-9, "pages 0-499 of 0-999");
    }

    @Test
    void compareSaysNoChangeForTheSameAndRegressionForSlower(@TempDir Path dir) throws IOException {
        Path base = dir.resolve("base.arrow");
        Path same = dir.resolve("same.arrow");
        Path slow = dir.resolve("slow.arrow");
        SyntheticTrace.write(base, 5000, 5, 20_000, 1, 1);
        SyntheticTrace.write(same, 5000, 5, 20_000, 1, 2);
        SyntheticTrace.write(slow, 5000, 5, 20_000, 1.3, 3);
        TraceAnalysis b = Analyzer.analyze(base, By.NONE);
        List<Comparison.GroupComparison> none = Comparison.compare(b, Analyzer.analyze(same, By.NONE), 0.05, 1);
        assertEquals(2, none.size());
        for (Comparison.GroupComparison g : none) {
            assertEquals(Comparison.Verdict.NO_CHANGE, g.verdict(), g.toString());
            assertTrue(g.runs().contains("5 vs 5 runs"));
        }
        List<Comparison.GroupComparison> worse = Comparison.compare(b, Analyzer.analyze(slow, By.NONE), 0.05, 1);
        for (Comparison.GroupComparison g : worse) {
            assertEquals(Comparison.Verdict.REGRESSION, g.verdict(), g.toString());
            Comparison.PercentileChange p50 = g.changes().getFirst();
            assertEquals(1.3, p50.ratio(), 0.05);
            assertTrue(p50.low() > 1 && p50.low() <= p50.ratio() && p50.ratio() <= p50.high());
        }
        assertTrue(Comparison.anyRegression(worse));
        List<Comparison.GroupComparison> better = Comparison.compare(Analyzer.analyze(slow, By.NONE), b, 0.05, 1);
        assertTrue(better.stream().allMatch(g -> g.verdict() == Comparison.Verdict.IMPROVEMENT));
    }

    @Test
    void everyGroupHasItsWholeRunFiguresAndMatchPairsOnTheDimensionsNamed(@TempDir Path dir) throws IOException {
        Path base = dir.resolve("base.arrow");
        Path slow = dir.resolve("slow.arrow");
        SyntheticTrace.write(base, 5000, 5, 20_000, 1, 1);
        SyntheticTrace.write(slow, 5000, 5, 20_000, 1.3, 3);
        TraceAnalysis b = Analyzer.analyze(base, By.NONE);
        RunSpan copy = b.spans().get(new GroupKey("COPY", 4096, "shmem", "")).get(2);
        assertEquals(4000, copy.faults(), "4 rows in 5 are COPY 4K");
        assertEquals(4000 * 4096L, copy.bytes());
        assertEquals(15.625, copy.mib(), 1e-9);
        // rows are 20 µs apart: the run's COPYs span its 5000 rows' 100 ms, less the last row, plus a latency
        assertTrue(copy.nanos() > 99_000_000 && copy.nanos() < 101_000_000, String.valueOf(copy.nanos()));
        RunSpan huge = b.spans().get(new GroupKey("CONTINUE", 2 << 20, "hugetlb", "")).get(2);
        assertEquals(1000L * (2 << 20), huge.bytes());

        List<Comparison.GroupComparison> byGroup = Comparison.compare(b, Analyzer.analyze(slow, By.NONE), LatencySource.END_TO_END,
                Comparison.Settings.of(0.05));
        assertEquals(2, byGroup.size());
        for (Comparison.GroupComparison g : byGroup) {
            assertEquals("p50", g.gatedOn(), "the same page size on both sides");
            assertEquals(1.0, g.populate().ratio(), 0.01, "rows are as far apart: only latencies grew, not the span");
            assertTrue(g.populate().resampled());
        }

        Comparison.Settings pooled = new Comparison.Settings(0.05, 1, Set.of("p50", Comparison.POPULATE), EnumSet.noneOf(Comparison.Dimension.class));
        List<Comparison.GroupComparison> one = Comparison.compare(b, Analyzer.analyze(slow, By.NONE), LatencySource.END_TO_END, pooled);
        assertEquals(1, one.size(), "matched on nothing: every group of a side pooled");
        Comparison.GroupComparison g = one.getFirst();
        assertEquals("CONTINUE 2M hugetlb + COPY 4K shmem", g.key().label(), "the same groups on both sides, pooled");
        assertEquals(25_000, g.baseFaults());
        assertEquals(Comparison.Verdict.REGRESSION, g.verdict(), "p50 1.3x, populate unchanged: a regression in one gated figure is one");
        assertEquals("p50, populate", g.gatedOn());
        assertEquals(1000 * 2.0 + 15.625, g.populate().baseMib(), 1e-9);
    }

    @Test
    void aReportOverSeveralFilesOpensWithTheirComparisonAndEverySvgIsSmall(@TempDir Path dir) throws IOException {
        Path base = dir.resolve("base.arrow");
        Path slow = dir.resolve("slow.arrow");
        SyntheticTrace.write(base, 20_000, 3, 20_000, 1, 1);
        SyntheticTrace.write(slow, 20_000, 3, 20_000, 1.5, 2);
        Path out = dir.resolve("report");
        Report.write(List.of(Analyzer.analyze(base, By.NONE), Analyzer.analyze(slow, By.NONE)), out, "faultline analyze", "", 0);
        String html = Files.readString(out.resolve("index.html"));
        int comparison = html.indexOf("<h2 id=\"comparison\">");
        assertTrue(comparison >= 0 && comparison < html.indexOf("<h2 id=\"contents\">")
                && html.indexOf("<h2 id=\"contents\">") < html.indexOf("<h2 id=\"file-1\">"), "comparison, contents, then the files");
        assertTrue(html.contains("href=\"#file-2\""), "the contents link each file");
        assertTrue(html.contains("id=\"comparison-percentiles\"") && html.contains("id=\"comparison-split\""));
        assertTrue(html.contains("missing pages"), "modes in words");

        JsonNode rows = new ObjectMapper().readTree(out.resolve("summary.json").toFile()).get("comparison");
        assertEquals(4, rows.size(), "2 groups x 2 files");
        JsonNode slowCopy = rows.get(3).get("group").asText().startsWith("COPY") ? rows.get(3) : rows.get(2);
        assertEquals(1.5, slowCopy.get("p50_vs_baseline").asDouble(), 0.05);
        assertEquals(1.0, slowCopy.get("populate_vs_baseline").asDouble(), 0.01, "rows 20 µs apart on both");
        assertEquals(62.5, slowCopy.get("mib").asDouble(), 1e-9, "16,000 COPY rows of 4K a run");

        try (var files = Files.list(out)) {
            for (Path svg : files.filter(f -> f.toString().endsWith(".svg")).toList()) {
                assertTrue(Files.size(svg) < 1_000_000, svg + " is " + Files.size(svg) + " bytes");
            }
        }
    }

    @Test
    void reportHasEveryPartAndReplacesOnlyAReport(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("t.arrow");
        SyntheticTrace.write(f, 20_000, 0, 20_000, 1, 5);
        Path out = dir.resolve("report");
        Report.write(List.of(Analyzer.analyze(f, By.NONE)), out, "faultline analyze t.arrow");
        String html = Files.readString(out.resolve("index.html"));
        assertTrue(html.contains(Report.MARK));
        for (String chart : List.of("percentiles", "boxes", "decomposition", "rate", "heatmap-copy-4k-shmem",
                "heatmap-continue-2m-hugetlb", "addresses-region0", "addresses-region1")) {
            assertTrue(Files.size(out.resolve(chart + ".png")) > 5_000, chart + ".png");
            assertTrue(Files.readString(out.resolve(chart + ".svg")).contains("<svg"), chart + ".svg");
            assertTrue(html.contains("href=\"" + chart + ".svg\""), chart + " is linked");
        }
        JsonNode j = new ObjectMapper().readTree(out.resolve("summary.json").toFile());
        assertEquals(4_000, j.get("files").get(0).get("groups").get(0).get("faults").asLong(), "CONTINUE 2M hugetlb sorts first");
        assertEquals(16_000, j.get("files").get(0).get("groups").get(1).get("faults").asLong());
        assertEquals(3, Files.readAllLines(out.resolve("summary.csv")).size(), "a header and two groups");
        Report.write(List.of(Analyzer.analyze(f, By.NONE)), out, "again"); // an earlier report is replaced
        assertTrue(Files.readString(out.resolve("index.html")).contains("again"));

        Path other = dir.resolve("mine");
        Files.createDirectories(other);
        Files.writeString(other.resolve("notes.txt"), "keep me");
        IOException e = assertThrows(IOException.class, () -> Report.write(List.of(Analyzer.analyze(f, By.NONE)), other, "x"));
        assertTrue(e.getMessage().contains("is not empty and is not a Faultline report"), e.getMessage());
        assertEquals("keep me", Files.readString(other.resolve("notes.txt")));
        assertTrue(!Files.exists(dir.resolve(".mine.partial")) && !Files.exists(dir.resolve(".report.partial")));

        // what an analyze killed outright leaves: a hidden half-built report, which the next one removes
        Path killed = Files.createDirectories(dir.resolve(".again.partial"));
        Files.writeString(killed.resolve("index.html"), "half");
        Report.write(List.of(Analyzer.analyze(f, By.NONE)), dir.resolve("again"), "again");
        assertFalse(Files.exists(killed), "the killed run's half-built report is gone");
        assertTrue(Files.readString(dir.resolve("again").resolve("index.html")).contains(Report.MARK));
    }

    @Test
    void tenMillionEventsInASmallHeap(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("big.arrow");
        SyntheticTrace.write(f, 10_000_000, 0, 20_000, 1, 9);
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, "-Xmx64m", "--enable-native-access=ALL-UNNAMED",
                "--add-opens=java.base/java.nio=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow",
                "-cp", System.getProperty("java.class.path"), AnalyzeMain.class.getName(), f.toString())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes()).strip();
        assertEquals(0, p.waitFor(), out);
        String[] parts = out.lines().reduce((a, b) -> b).orElse("").split(" ");
        assertEquals("10000000", parts[0], out);
        System.out.printf("analyzed 10M events in a 64 MiB heap at %.1f M events/s%n", 10e6 / (Long.parseLong(parts[2]) / 1e9) / 1e6);
    }
}
