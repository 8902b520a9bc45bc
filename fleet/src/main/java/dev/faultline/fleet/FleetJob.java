package dev.faultline.fleet;

import dev.faultline.analysis.Analyzer;
import dev.faultline.analysis.By;
import dev.faultline.analysis.CompareReport;
import dev.faultline.analysis.Comparison;
import dev.faultline.analysis.ComparisonTable;
import dev.faultline.analysis.Format;
import dev.faultline.analysis.GroupStats;
import dev.faultline.analysis.LatencySource;
import dev.faultline.analysis.Report;
import dev.faultline.analysis.TraceAnalysis;
import dev.faultline.core.trace.OutputFile;
import org.HdrHistogram.Histogram;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;

import static org.apache.spark.sql.functions.col;

/**
 * The fleet job: reads the Parquet that {@code faultline export} wrote for many hosts, aggregates
 * every fault row into {@link GroupFaults} per slice, group (ioctl, page size, backend), trace and
 * run with Spark, and writes each slice as a faultline summary ({@link FleetSummary}) that
 * {@code faultline analyze} and {@code compare} read. Prints each slice's groups as analyze does,
 * writes them to {@code groups.csv}, renders the HTML report when the slices are few, and with
 * {@code --compare A,B} compares two slices by {@code faultline compare}'s rules and exits as it does.
 *
 * <p>Only the per-group states (a few hundred bytes each) reach the driver: memory on the driver
 * grows with traces × groups, never with rows.
 */
@Command(name = "faultline-fleet", sortOptions = false, usageHelpAutoWidth = true, mixinStandardHelpOptions = true,
        versionProvider = FleetJob.Version.class,
        description = {
            "Aggregate the Parquet of many hosts' traces (faultline export) on Apache Spark into one faultline summary per "
                + "slice: per kernel (the default), host, backend, source, trace or any exported column. Each summary holds "
                + "every group's histograms per trace and run, so 'faultline analyze' reports the slice and 'faultline compare' "
                + "resamples over its traces.",
            "",
            "Writes OUT/BY=VALUE.arrow per slice, OUT/groups.csv (faults, faults/s, p50, p90, p99, p99.9, max and the "
                + "queue / service / wake split per slice and group, as faultline analyze computes them), OUT/report/ "
                + "(HTML, when there are at most " + FleetJob.REPORT_SLICES + " slices) and with --compare OUT/compare/ and a "
                + "verdict by faultline compare's rules; the exit status is compare's (0 no regression, 3 regression, "
                + "4 incomplete, 5 nothing compared).",
            "",
            "Examples:",
            "  spark-submit --class dev.faultline.fleet.FleetJob faultline-fleet.jar s3a://bucket/faultline -o fleet-out",
            "  spark-submit ... faultline-fleet.jar /data/faultline --by kernel --compare 6.1.0-47-amd64,6.18.4 -o k",
            "  spark-submit ... faultline-fleet.jar /data/faultline --by host --where \"started_at >= '2026-12-01'\""})
public final class FleetJob implements Callable<Integer> {
    /** At most this many slices get the HTML report (each is a section with its charts). */
    static final int REPORT_SLICES = 12;

    @Parameters(paramLabel = "INPUT", description = "The directory faultline export wrote (any path Spark reads: file:, hdfs:, s3a:).")
    String input;

    @Option(names = {"-o", "--output"}, paramLabel = "DIR", description = "Where the summaries, groups.csv and reports go "
            + "(on the driver; default: ${DEFAULT-VALUE}). Earlier outputs there are replaced.")
    Path output = Path.of("fleet-out");

    @Option(names = "--by", paramLabel = "COLUMN", description = "The column that slices the fleet: kernel, host, backend, "
            + "source, trace, region_name, command or any other (default: ${DEFAULT-VALUE}).")
    String by = "kernel";

    @Option(names = "--where", paramLabel = "SQL", description = "Only rows matching this Spark SQL condition, e.g. "
            + "\"started_at >= '2026-12-01'\" or \"host LIKE 'eu-%%'\".")
    String where;

    @Option(names = "--compare", paramLabel = "BASE,CANDIDATE", split = ",", description = "Compare two slices (values of "
            + "--by) by faultline compare's rules: per group the p50 ratio's 95%% interval over the slices' traces, or the "
            + "time to populate where page sizes differ.")
    List<String> compare;

    @Option(names = {"--threshold", "--min-effect"}, paramLabel = "PCT", description = "As faultline compare's (default: ${DEFAULT-VALUE}).")
    double threshold = 5;

    @Option(names = "--seed", paramLabel = "N", description = "Seed of the bootstrap (default: ${DEFAULT-VALUE}).")
    long seed = 1;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** Under spark-submit: runs, stops Spark, exits with the job's status. */
    public static void main(String[] args) {
        int status = commandLine().execute(args);
        SparkSession.getActiveSession().foreach(s -> {
            s.stop();
            return null;
        });
        System.exit(status);
    }

    /** The command line, with one-line failures (exit 1), for main and tests. */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new FleetJob());
        cl.setExecutionExceptionHandler((e, line, parsed) -> {
            line.getErr().println("faultline-fleet: " + oneLine(e));
            if (System.getenv("FAULTLINE_DEBUG") != null) {
                e.printStackTrace(line.getErr());
            }
            line.getErr().flush();
            return 1;
        });
        return cl;
    }

    private static String oneLine(Throwable e) {
        String m = e.getMessage() == null ? e.toString() : e.getMessage();
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }

    @Override
    public Integer call() throws Exception {
        CommandLine cl = spec.commandLine();
        if (compare != null && compare.size() != 2) {
            throw new CommandLine.ParameterException(cl, "--compare takes two values of --" + by + ": BASE,CANDIDATE");
        }
        if (!(threshold > 0 && threshold < 1000)) {
            throw new CommandLine.ParameterException(cl, "--threshold must be a percentage above 0, not " + threshold);
        }
        PrintWriter out = cl.getOut();
        PrintWriter err = cl.getErr();
        String command = "faultline-fleet " + String.join(" ", cl.getParseResult().originalArgs());
        SparkSession spark = session();
        long start = System.nanoTime();
        Map<String, List<FleetSummary.Part>> slices = aggregate(spark);
        err.printf(Locale.ROOT, "faultline-fleet: %d slices by %s from %s in %.1f s (Spark %s, %s)%n", slices.size(), by, input,
                (System.nanoTime() - start) / 1e9, spark.version(), spark.sparkContext().master());
        if (slices.isEmpty()) {
            throw new IOException("no fault rows in " + input + (where == null ? "" : " where " + where));
        }
        if (compare != null) {
            for (String v : compare) {
                if (!slices.containsKey(v)) {
                    throw new IOException("--compare: no " + by + " '" + v + "' in " + input + "; there are: "
                            + String.join(", ", slices.keySet().stream().limit(10).toList()) + (slices.size() > 10 ? " …" : ""));
                }
            }
        }
        Files.createDirectories(output);
        Map<String, TraceAnalysis> analyses = new TreeMap<>();
        for (Map.Entry<String, List<FleetSummary.Part>> s : slices.entrySet()) {
            Path f = output.resolve(by + "=" + dev.faultline.fleet.FleetSummary.fileValue(s.getKey()) + ".arrow");
            FleetSummary.write(f, by, s.getKey(), s.getValue(), command);
            analyses.put(s.getKey(), Analyzer.analyze(f, By.NONE));
        }
        printGroups(out, analyses);
        writeCsv(output.resolve("groups.csv"), analyses);
        List<String> keys = new ArrayList<>(analyses.keySet());
        if (analyses.size() <= REPORT_SLICES) {
            Path report = output.resolve("report");
            Report.checkReplaceable(report);
            int baseline = compare == null ? 0 : keys.indexOf(compare.getFirst());
            Report.write(new ArrayList<>(analyses.values()), report, command,
                    "<p>The fleet by " + Report.esc(by) + ": " + analyses.size() + " slices of " + Report.esc(input) + ".</p>", baseline);
            out.println("report: " + report.resolve("index.html"));
        } else {
            out.printf(Locale.ROOT, "report: left out for %d slices (more than %d); faultline analyze the summaries you want%n",
                    analyses.size(), REPORT_SLICES);
        }
        if (compare == null) {
            return 0;
        }
        TraceAnalysis a = analyses.get(compare.get(0));
        TraceAnalysis b = analyses.get(compare.get(1));
        LatencySource source = Comparison.commonSource(a, b, null);
        List<Comparison.GroupComparison> groups = Comparison.compare(a, b, source, new Comparison.Settings(threshold / 100, seed, null, null));
        Path report = output.resolve("compare");
        Report.checkReplaceable(report);
        CompareReport.write(a, b, groups, source, threshold / 100, report, command);
        out.printf(Locale.ROOT, "fleet compare: %s=%s (base) against %s=%s%n", by, compare.get(0), by, compare.get(1));
        return ComparisonTable.print(out, a, b, groups, source, false, threshold, report).exitStatus();
    }

    /** The session spark-submit made, or a local one on every core when the job runs on its own. */
    static SparkSession session() {
        SparkSession.Builder b = SparkSession.builder().appName("faultline-fleet")
                // kernel releases such as 6.10 must stay strings, not become decimals
                .config("spark.sql.sources.partitionColumnTypeInference.enabled", "false");
        if (!new org.apache.spark.SparkConf().contains("spark.master")) {
            b.master("local[*]").config("spark.ui.enabled", "false");
        }
        SparkSession s = b.getOrCreate();
        s.sparkContext().setLogLevel("WARN");
        return s;
    }

    /** Every fault row's group state per slice, trace and run, collected on the driver by slice. */
    Map<String, List<FleetSummary.Part>> aggregate(SparkSession spark) {
        Dataset<Row> rows = spark.read().parquet(input);
        if (!Arrays.asList(rows.columns()).contains(by)) {
            throw new IllegalArgumentException("--by " + by + ": no such column in " + input + "; there are: "
                    + String.join(", ", rows.columns()));
        }
        rows = rows.where(col("kind").equalTo("PAGEFAULT"));
        if (where != null) {
            rows = rows.where(where);
        }
        Column state = functions.udaf(new FaultAggregator(), FaultAggregator.input())
                .apply(col("t_fault"), col("t_read"), col("t_resolve_end"), col("t_wake"), col("page_size"));
        Dataset<Row> groups = rows.groupBy(functions.coalesce(col(by).cast("string"), functions.lit("")).as("slice"),
                        col("trace"), col("host"), col("started_at"), col("kernel").cast("string").as("kernel"), col("run"),
                        col("ioctl"), col("page_size"), col("backend").cast("string").as("backend"))
                .agg(state.as("state"));
        Map<String, List<FleetSummary.Part>> out = new TreeMap<>();
        for (Row r : groups.collectAsList()) {
            out.computeIfAbsent(r.getString(0), k -> new ArrayList<>()).add(new FleetSummary.Part(r.getString(1), r.getString(2),
                    r.getString(3), r.getString(4), r.getInt(5), r.getString(6), r.getInt(7), r.getString(8),
                    GroupFaults.decode((byte[]) r.get(9))));
        }
        return out;
    }

    private static String p(Histogram h, double percentile) {
        return h.getTotalCount() == 0 ? "-" : Format.nanos(h.getValueAtPercentile(percentile));
    }

    private void printGroups(PrintWriter o, Map<String, TraceAnalysis> analyses) {
        int width = Math.max(by.length(), analyses.keySet().stream().mapToInt(String::length).max().orElse(0));
        int groupWidth = analyses.values().stream().flatMap(a -> a.groups().stream()).mapToInt(g -> g.key().label().length())
                .max().orElse(0);
        String lead = "%-" + width + "s %-" + groupWidth + "s ";
        o.printf(Locale.ROOT, lead + "%11s %6s %10s %9s %9s %9s %9s %9s  %s%n", by, "group", "faults", "runs", "faults/s", "p50",
                "p90", "p99", "p99.9", "max", "latency is");
        for (Map.Entry<String, TraceAnalysis> s : analyses.entrySet()) {
            TraceAnalysis a = s.getValue();
            for (GroupStats g : a.groups()) {
                Histogram h = g.latency();
                o.printf(Locale.ROOT, lead + "%,11d %6d %,10.0f %9s %9s %9s %9s %9s  %s%n", s.getKey(), g.key().label(), g.faults(),
                        a.runs().getOrDefault(g.key(), Map.of()).size(), a.faultsPerSecond(g), p(h, 50), p(h, 90), p(h, 99), p(h, 99.9),
                        h.getTotalCount() == 0 ? "-" : Format.nanos(h.getMaxValue()), g.source().shortName());
            }
        }
        o.flush();
    }

    /** groups.csv: one line per slice and group, times in ns. */
    private void writeCsv(Path file, Map<String, TraceAnalysis> analyses) throws IOException {
        StringBuilder b = new StringBuilder(by + ",ioctl,page_size,backend,latency,faults,runs,faults_per_s,p50_ns,p90_ns,p99_ns,"
                + "p99_9_ns,max_ns,queue_mean_ns,service_mean_ns,wake_mean_ns\n");
        for (Map.Entry<String, TraceAnalysis> s : analyses.entrySet()) {
            TraceAnalysis a = s.getValue();
            for (GroupStats g : a.groups()) {
                Histogram h = g.latency();
                b.append(csv(s.getKey())).append(',').append(g.key().ioctl()).append(',').append(g.key().pageSize()).append(',')
                        .append(csv(g.key().backend())).append(',').append(g.source().optionName()).append(',').append(g.faults())
                        .append(',').append(a.runs().getOrDefault(g.key(), Map.of()).size())
                        .append(',').append(String.format(Locale.ROOT, "%.1f", a.faultsPerSecond(g)));
                for (double p : new double[] {50, 90, 99, 99.9}) {
                    b.append(',').append(h.getTotalCount() == 0 ? "" : Long.toString(h.getValueAtPercentile(p)));
                }
                b.append(',').append(h.getTotalCount() == 0 ? "" : Long.toString(h.getMaxValue()));
                for (Histogram split : new Histogram[] {g.queue(), g.service(), g.wake()}) {
                    b.append(',').append(split.getTotalCount() == 0 ? "" : String.format(Locale.ROOT, "%.1f", split.getMean()));
                }
                b.append('\n');
            }
        }
        Path partial = OutputFile.partial(file);
        Files.writeString(partial, b);
        Files.move(partial, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    private static String csv(String v) {
        return v.contains(",") || v.contains("\"") || v.contains("\n") ? '"' + v.replace("\"", "\"\"") + '"' : v;
    }

    /** The Faultline version the job was built from. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"faultline-fleet " + dev.faultline.core.FaultlineVersion.get()};
        }
    }
}
