package dev.faultline.cli;

import dev.faultline.analysis.Analyzer;
import dev.faultline.analysis.Blocktime;
import dev.faultline.analysis.By;
import dev.faultline.analysis.Format;
import dev.faultline.analysis.GroupStats;
import dev.faultline.analysis.Report;
import dev.faultline.analysis.TraceAnalysis;
import org.HdrHistogram.Histogram;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code faultline analyze}: latency per group, charts and an HTML report for traces and replay results. */
@Command(name = "analyze", sortOptions = false, usageHelpAutoWidth = true, mixinStandardHelpOptions = true,
        exitCodeListHeading = ExitStatus.HEADING, exitCodeList = {ExitStatus.OK, ExitStatus.FAILED, ExitStatus.USAGE},
        description = {
            "Analyze traces, replay results and JMH result files (-rf json): fault latency per ioctl × page size × backend (p50 to max, "
                + "faults/s, queue / service / wake), the working set, and charts — written as a report "
                + "directory with index.html (opens from disk), summary.json, summary.csv and each chart as PNG and SVG.",
            "",
            "Latency is t_wake - t_fault where the file has both (recordings and replays of Faultline's own "
                + "faulting threads); for passive captures fault -> resolve, t_resolve_end - t_fault (page_fault_user to "
                + "the resolving ioctl's exit); for faults with no entry time (KVM's) the handler's service time "
                + "t_resolve_end - t_read. Each group says which. Passive captures also get the time threads were blocked, "
                + "by QEMU's postcopy-blocktime definitions. Files are read batch by batch: memory stays bounded whatever their size.",
            "",
            "Several files: the report opens with one comparison of every group of every file (percentile curves on one "
                + "chart, boxes side by side, the mean queue / service / wake split, the time to populate the working set and "
                + "ratios against --baseline), then a table of contents, then each file's own section.",
            "",
            "Examples:",
            "  faultline analyze t.arrow -o report",
            "  faultline analyze r.arrow --by run -o report",
            "  faultline analyze mon.arrow tue.arrow -o report    (+ working-set overlap)",
            "  faultline analyze r.shmem.arrow r.anon.arrow r.hugetlb2m.arrow \\",
            "      --baseline r.shmem.arrow -o report"})
final class AnalyzeCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(paramLabel = "FILE", arity = "1..*", description = "Traces, replay results or JMH JSON results (one group per benchmark, one run per iteration); - reads one from standard input.")
    List<Path> files;

    @Option(names = {"-o", "--output"}, paramLabel = "DIR", description = "The report directory (default: ${DEFAULT-VALUE}). An earlier report there is replaced; any other non-empty directory is refused.")
    Path output = Path.of("report");

    @Option(names = "--by", paramLabel = "WHAT", description = "Also split groups by thread, run, region or mode.")
    String by = "none";

    @Option(names = "--json", description = "Print the report's summary.json (per file and group: faults, faults/s, percentiles, "
            + "the split, the latency definition) on stdout instead of the table; the report is written as always.")
    boolean json;

    @Option(names = "--baseline", paramLabel = "FILE", description = "With several files, the one the others are compared "
            + "with in the report's opening comparison (ratios of p50 and of the time to populate); one of the FILEs, by "
            + "path or by its 1-based position (default: the first).")
    String baseline;

    private static String p50(Histogram h) {
        return h.getTotalCount() == 0 ? "-" : Format.nanos(h.getValueAtPercentile(50));
    }

    /** The index of --baseline among the files; refused in one line when it is none of them. */
    private int baselineIndex(CommandLine cl) {
        if (baseline == null) {
            return 0;
        }
        if (baseline.matches("\\d{1,4}")) {
            int i = Integer.parseInt(baseline);
            if (i >= 1 && i <= files.size()) {
                return i - 1;
            }
        }
        for (int i = 0; i < files.size(); i++) {
            if (files.get(i).toString().equals(baseline) || files.get(i).toAbsolutePath().normalize()
                    .equals(Path.of(baseline).toAbsolutePath().normalize())) {
                return i;
            }
        }
        throw new CommandLine.ParameterException(cl, "--baseline: '" + baseline + "' is none of the " + files.size()
                + " files (give one of their paths, or a position from 1 to " + files.size() + ")");
    }

    @Override
    public Integer call() throws Exception {
        CommandLine cl = spec.commandLine();
        By split = Options.parse(cl, By.class, by, "--by");
        Report.checkReplaceable(output); // refuse a wrong -o before reading anything
        List<TraceAnalysis> analyses = new ArrayList<>();
        try (StdinFile stdin = new StdinFile()) {
            for (Path f : files) {
                TraceAnalysis a = Analyzer.analyze(stdin.resolve(f, System.in), split);
                analyses.add(f.equals(StdinFile.DASH) ? a.shownAs(Path.of("stdin")) : a);
            }
        }
        String command = "faultline " + String.join(" ", cl.getParseResult().originalArgs());
        Report.write(analyses, output, command, "", baselineIndex(cl));
        PrintWriter o = cl.getOut();
        if (json) {
            o.println(java.nio.file.Files.readString(output.resolve("summary.json")).strip()); // what the report wrote
            o.flush();
            return 0;
        }
        for (TraceAnalysis a : analyses) {
            if ("jmh".equals(a.header().source())) {
                o.printf(Locale.ROOT, "%s: JMH results, %,d measurements%n", a.file(), a.events());
            } else if (a.summary()) {
                o.printf(Locale.ROOT, "%s: summary capture, %,d rows%s%n", a.file(), a.events(), a.recovered() ? " (RECOVERED file)" : "");
            } else {
                o.printf(Locale.ROOT, "%s: %,d rows, %,d faults on %,d pages%s%n", a.file(), a.events(), a.workingSet().faults(),
                        a.workingSet().uniquePages(), a.recovered() ? " (RECOVERED file)" : "");
            }
            o.printf(Locale.ROOT, "  %-28s %10s %10s %10s %10s %10s %10s %10s %10s  %s%n", "group", "faults", "faults/s", "p50", "p99",
                    "p99.9", "max", "queue p50", "serv. p50", "latency is");
            for (GroupStats g : a.groups()) {
                Histogram h = g.latency();
                o.printf(Locale.ROOT, "  %-28s %,10d %,10.0f %10s %10s %10s %10s %10s %10s  %s%n", g.key().label(), g.faults(),
                        a.faultsPerSecond(g), Format.nanos(h.getValueAtPercentile(50)), Format.nanos(h.getValueAtPercentile(99)),
                        Format.nanos(h.getValueAtPercentile(99.9)), Format.nanos(h.getMaxValue()), p50(g.queue()), p50(g.service()),
                        g.source().shortName() + (g.timedFaults() < g.faults() ? String.format(Locale.ROOT, " (%,d of the faults)",
                                g.timedFaults()) : ""));
            }
            if (a.blocktime() != null) {
                Blocktime.Result b = a.blocktime();
                o.printf(Locale.ROOT, "  blocked   %s%n", b.allBlocked() < 0 ? "per thread only (" + (a.summary() ? "summary capture"
                        : "overlap only for passive captures of up to " + Blocktime.MAX_INTERVALS + " faults") + ")" : String.format(Locale.ROOT,
                        "all vCPUs at once %s, any %s (read -> resolve, QEMU's postcopy-blocktime; over %s)",
                        Format.nanos(b.allBlocked()), Format.nanos(b.anyBlocked()), b.vcpusFrom()));
                StringBuilder per = new StringBuilder();
                for (int tid : b.vcpus()) {
                    Blocktime.Thread t = b.threads().get(tid);
                    per.append(String.format(Locale.ROOT, "%s%d %s %s", per.isEmpty() ? "" : ", ", tid,
                            a.threadNames().getOrDefault(tid, "").isEmpty() ? "" : "(" + a.threadNames().get(tid) + ")",
                            t == null ? "0" : Format.nanos(t.readToResolve())));
                }
                o.printf(Locale.ROOT, "  per vCPU  %s%n", per);
            }
        }
        o.println("report: " + output.resolve("index.html"));
        o.flush();
        return 0;
    }
}
