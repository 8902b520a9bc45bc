package dev.faultline.fleet;

import dev.faultline.analysis.Analyzer;
import dev.faultline.analysis.By;
import dev.faultline.analysis.Comparison;
import dev.faultline.analysis.GroupKey;
import dev.faultline.analysis.GroupStats;
import dev.faultline.analysis.LatencySource;
import dev.faultline.analysis.TraceAnalysis;
import dev.faultline.export.ExportListener;
import dev.faultline.export.ParquetExport;
import org.HdrHistogram.Histogram;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The fleet job in Spark local mode on the sample traces and 2,000 synthetic hosts on two kernels,
 * exported as a user would: its per-slice figures are analyze's on the same traces (exact counts,
 * the same histograms, so the same percentiles), its fleet compare is compare's on the same traces
 * pooled, and DuckDB counts the same rows.
 */
class FleetJobTest {
    static final String OLD = "6.1.0-47-amd64";
    static final String NEW = "6.18.4-synthetic";
    static final int HOSTS = 2000;

    @TempDir
    static Path dir;
    static Path table;
    static Map<String, List<Path>> tracesByKernel = new TreeMap<>();

    record Run(int exit, String out, String err) {
    }

    static Run job(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        var cl = FleetJob.commandLine();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int exit = cl.execute(args);
        return new Run(exit, out.toString(), err.toString());
    }

    @BeforeAll
    static void exportAFleet() throws IOException {
        long t0 = System.nanoTime();
        List<Path> synthetic = SyntheticFleet.write(dir.resolve("traces"), HOSTS, 60, List.of(OLD, NEW), 7);
        List<Path> samples;
        try (Stream<Path> s = Files.list(Path.of("../traces"))) {
            samples = s.filter(p -> p.toString().endsWith(".arrow")).sorted().toList();
        }
        List<Path> all = new ArrayList<>(samples);
        all.addAll(synthetic);
        for (Path p : all) {
            try (var r = dev.faultline.core.trace.TraceReader.open(p)) {
                tracesByKernel.computeIfAbsent(r.header().kernel(), k -> new ArrayList<>()).add(p);
            }
        }
        tracesByKernel.values().forEach(l -> l.sort(java.util.Comparator.comparing(p -> p.getFileName().toString())));
        System.err.printf("fleet written: %.1f s%n", (System.nanoTime() - t0) / 1e9);
        table = dir.resolve("table");
        ParquetExport.export(all, table, ExportListener.QUIET);
        System.err.printf("fleet exported: %.1f s%n", (System.nanoTime() - t0) / 1e9);
    }

    @AfterAll
    static void stopSpark() {
        SparkSession.getActiveSession().foreach(s -> {
            s.stop();
            return null;
        });
    }

    /** The traces of one slice as faultline compare pools them: their runs one after another, in name order. */
    static TraceAnalysis pooled(List<Path> traces) throws IOException {
        List<TraceAnalysis> all = new ArrayList<>();
        for (Path p : traces) {
            all.add(Analyzer.analyze(p, By.NONE));
        }
        return Comparison.pool(all);
    }

    /** Per group: faults, and the merged histogram of each latency definition and of the split, over the traces. */
    static Map<GroupKey, long[]> counts(List<Path> traces) throws IOException {
        Map<GroupKey, long[]> out = new TreeMap<>();
        for (Path p : traces) {
            for (GroupStats g : Analyzer.analyze(p, By.NONE).groups()) {
                long[] v = out.computeIfAbsent(g.key(), k -> new long[4]);
                v[0] += g.faults();
                v[1] += g.queue().getTotalCount();
                v[2] += g.service().getTotalCount();
                v[3] += g.wake().getTotalCount();
            }
        }
        return out;
    }

    @Test
    void perKernelFiguresAreAnalyzesOnTheSameTracesAndTheFleetCompareIsCompares() throws Exception {
        Path out = dir.resolve("by-kernel");
        long t0 = System.nanoTime();
        Run run = job(table.toString(), "--by", "kernel", "--compare", OLD + "," + NEW, "-o", out.toString());
        System.err.printf("job: %.1f s; %s%n", (System.nanoTime() - t0) / 1e9, run.err().strip());
        assertEquals(3, run.exit(), "the new kernel is 1.25x slower on every backend: compare's exit status for a regression\n"
                + run.out() + run.err());
        assertTrue(run.out().contains("fleet compare: kernel=" + OLD + " (base) against kernel=" + NEW), run.out());
        assertTrue(run.out().contains("=> REGRESSION"), run.out());
        assertTrue(Files.isRegularFile(out.resolve("report/index.html")) && Files.isRegularFile(out.resolve("compare/index.html")));
        assertTrue(Files.readString(out.resolve("groups.csv")).lines().count() > 3);

        for (Map.Entry<String, List<Path>> k : tracesByKernel.entrySet()) {
            TraceAnalysis fleet = Analyzer.analyze(out.resolve("kernel=" + FleetSummary.fileValue(k.getKey()) + ".arrow"), By.NONE);
            TraceAnalysis traces = pooled(k.getValue());
            Map<GroupKey, long[]> want = counts(k.getValue());
            assertEquals(want.keySet(), fleet.groups().stream().map(GroupStats::key).collect(java.util.stream.Collectors.toSet()),
                    k.getKey() + ": the same groups");
            for (GroupStats g : fleet.groups()) {
                long[] w = want.get(g.key());
                assertEquals(w[0], g.faults(), k.getKey() + " " + g.key().label() + ": faults");
                assertEquals(w[1], g.queue().getTotalCount(), g.key().label() + ": queue measured");
                assertEquals(w[2], g.service().getTotalCount(), g.key().label() + ": service measured");
                assertEquals(w[3], g.wake().getTotalCount(), g.key().label() + ": wake measured");
                Map<Integer, Histogram> fleetRuns = fleet.runs().get(g.key());
                Map<Integer, Histogram> traceRuns = traces.runs().get(g.key());
                assertEquals(traceRuns.size(), fleetRuns.size(), g.key().label() + ": one run per trace and run");
                Histogram a = merge(fleetRuns);
                Histogram b = merge(traceRuns);
                for (double p : new double[] {50, 90, 99, 99.9, 100}) {
                    assertEquals(b.getValueAtPercentile(p), a.getValueAtPercentile(p), k.getKey() + " " + g.key().label() + " p" + p);
                }
                assertEquals(traces.spans().get(g.key()).size(), fleet.spans().get(g.key()).size());
            }
        }
        System.err.printf("checked against analyze: %.1f s%n", (System.nanoTime() - t0) / 1e9);
        // the fleet compare is faultline compare of the same traces, pooled in name order
        TraceAnalysis a = pooled(tracesByKernel.get(OLD));
        TraceAnalysis b = pooled(tracesByKernel.get(NEW));
        LatencySource source = Comparison.commonSource(a, b, null);
        List<Comparison.GroupComparison> expected = Comparison.compare(a, b, source, new Comparison.Settings(0.05, 1, null, null));
        List<Comparison.GroupComparison> fleet = Comparison.compare(
                Analyzer.analyze(out.resolve("kernel=" + OLD + ".arrow"), By.NONE),
                Analyzer.analyze(out.resolve("kernel=" + NEW + ".arrow"), By.NONE), source, new Comparison.Settings(0.05, 1, null, null));
        assertEquals(expected.size(), fleet.size());
        for (int i = 0; i < expected.size(); i++) {
            assertEquals(expected.get(i).verdict(), fleet.get(i).verdict(), expected.get(i).key().label());
            assertEquals(expected.get(i).changes().toString(), fleet.get(i).changes().toString(), expected.get(i).key().label());
        }

        System.err.printf("compare checked: %.1f s%n", (System.nanoTime() - t0) / 1e9);
        // an engine that is neither Faultline nor Spark counts the same faults per kernel
        Map<String, Long> duck = new HashMap<>();
        try (Connection c = DriverManager.getConnection("jdbc:duckdb:"); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT kernel, count(*) FROM read_parquet('" + table
                     + "/**/*.parquet', hive_partitioning = true) WHERE kind = 'PAGEFAULT' GROUP BY kernel")) {
            while (rs.next()) {
                duck.put(rs.getString(1), rs.getLong(2));
            }
        }
        for (Map.Entry<String, List<Path>> k : tracesByKernel.entrySet()) {
            long faults = counts(k.getValue()).values().stream().mapToLong(v -> v[0]).sum();
            assertEquals(faults, duck.get(k.getKey()), k.getKey() + ": DuckDB's count of PAGEFAULT rows");
        }
    }

    @Test
    void eachSampleTraceAsASliceIsWhatAnalyzeSaysOfIt() throws Exception {
        String sampleKernel = tracesByKernel.keySet().stream().filter(k -> !k.equals(OLD) && !k.equals(NEW)).findFirst().orElseThrow();
        Path out = dir.resolve("by-trace");
        Run run = job(table.toString(), "--by", "trace", "--where", "kernel = '" + sampleKernel + "'", "-o", out.toString());
        assertEquals(0, run.exit(), run.out() + run.err());
        for (Path trace : tracesByKernel.get(sampleKernel)) {
            String name = trace.getFileName().toString();
            TraceAnalysis fleet = Analyzer.analyze(out.resolve("trace=" + FleetSummary.fileValue(name) + ".arrow"), By.NONE);
            TraceAnalysis direct = Analyzer.analyze(trace, By.NONE);
            assertEquals(direct.groups().size(), fleet.groups().size(), name);
            for (int i = 0; i < direct.groups().size(); i++) {
                GroupStats d = direct.groups().get(i);
                GroupStats f = fleet.groups().get(i);
                assertEquals(d.key(), f.key(), name);
                assertEquals(d.faults(), f.faults(), name + " " + d.key().label());
                assertEquals(d.source(), f.source(), name + " " + d.key().label() + ": the same latency definition");
                for (double p : new double[] {50, 90, 99, 99.9}) {
                    assertEquals(d.latency().getValueAtPercentile(p), f.latency().getValueAtPercentile(p), name + " p" + p);
                }
                assertEquals(direct.faultsPerSecond(d), fleet.faultsPerSecond(f), 1e-6 * direct.faultsPerSecond(d), name + " faults/s");
                assertTrue(run.out().contains(name), "the printed table names " + name);
            }
        }
    }

    @Test
    void anUnknownColumnOrSliceIsRefusedInOneLine() {
        Run badBy = job(table.toString(), "--by", "colour", "-o", dir.resolve("x").toString());
        assertEquals(1, badBy.exit());
        assertTrue(badBy.err().startsWith("faultline-fleet: --by colour: no such column") && badBy.err().contains("host"), badBy.err());
        Run badSlice = job(table.toString(), "--compare", OLD + ",5.4.0", "-o", dir.resolve("y").toString());
        assertEquals(1, badSlice.exit());
        assertTrue(badSlice.err().contains("no kernel '5.4.0'") && badSlice.err().contains(NEW), badSlice.err());
    }

    private static Histogram merge(Map<Integer, Histogram> runs) {
        Histogram h = new Histogram(3);
        runs.values().forEach(h::add);
        return h;
    }
}
