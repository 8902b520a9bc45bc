package dev.faultline.cli;

import dev.faultline.analysis.Analyzer;
import dev.faultline.analysis.By;
import dev.faultline.analysis.CompareReport;
import dev.faultline.analysis.Comparison;
import dev.faultline.analysis.Comparison.GroupComparison;
import dev.faultline.analysis.ComparisonTable;
import dev.faultline.analysis.Format;
import dev.faultline.analysis.LatencySource;
import dev.faultline.analysis.Report;
import dev.faultline.analysis.TraceAnalysis;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code faultline compare}: base against candidate per group, with a verdict and an exit status CI can gate on. */
@Command(name = "compare", sortOptions = false, usageHelpAutoWidth = true, mixinStandardHelpOptions = true,
        description = {
            "Compare two traces or replay results group by group (ioctl × page size × backend): the ratio "
                + "candidate / base of p50, p90 and p99 with a 95%% bootstrap interval, and a verdict — regression, "
                + "improvement or no change: the whole interval beyond --threshold — gated on --gate percentiles. Exits 3 "
                + "when any group regressed, so it can gate a kernel or handler change in CI; and, so that such a gate cannot "
                + "pass on missing data, 4 when a group has faults on one side only and 5 when no group has faults on both "
                + "(an empty candidate, or no group in common), unless --allow-missing.",
            "",
            "Beside the percentiles, each group's whole run: the MiB its faults populated and the time to populate them "
                + "(first fault to last resolution). Replays of one trace on 4K and 2M pages compare on that, since a 2M "
                + "fault is slower by design. Two files whose sole groups differ (another backend, page size or ioctl) "
                + "compare those two; --match pairs groups on chosen dimensions.",
            "",
            "Give it replays with several runs (faultline replay --runs 5): the bootstrap then resamples runs and the "
                + "interval includes run-to-run noise. With one run a side it resamples faults, and says so. On a busy "
                + "machine, interleave: replay A, B, A, B… one run each and pass each side as a comma-separated list — "
                + "drift then hits both sides alike.",
            "",
            "Examples:",
            "  faultline replay t.arrow --runs 5 -o a.arrow      (on kernel A)",
            "  faultline replay t.arrow --runs 5 -o b.arrow      (on kernel B)",
            "  faultline compare a.arrow b.arrow -o cmp",
            "  faultline compare a1.arrow,a2.arrow,a3.arrow b1.arrow,b2.arrow,b3.arrow",
            "  faultline replay t.arrow --backend shmem,hugetlb2m --runs 3 -o r.arrow",
            "  faultline compare r.shmem.arrow r.hugetlb2m.arrow -o cmp"},
        exitCodeListHeading = "%nExit status:%n",
        exitCodeList = {"0:every group compared and none regressed", "1:an error (one line on stderr)", "2:a usage error",
            "3:at least one group regressed",
            "4:incomplete: none regressed, but a group has faults on one side only (0 with --allow-missing)",
            "5:nothing compared: no group has faults on both sides, e.g. an empty candidate (0 with --allow-missing)"})
final class CompareCommand implements Callable<Integer> {
    static final int EXIT_REGRESSION = Comparison.Outcome.REGRESSION.exitStatus();

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "BASE", split = ",", description = "The reference trace or replay results "
            + "(several, comma-separated: their runs are pooled).")
    List<Path> base;

    @Parameters(index = "1", arity = "1", paramLabel = "CANDIDATE", split = ",", description = "The one under test (likewise).")
    List<Path> candidate;

    @Option(names = {"-o", "--output"}, paramLabel = "DIR", description = "The report directory (default: ${DEFAULT-VALUE}).")
    Path output = Path.of("compare");

    @Option(names = {"--threshold", "--min-effect"}, paramLabel = "PCT", converter = Percent.class, description = "The smallest "
            + "relative change that counts, in percent, e.g. 10 or 10%%: a figure regresses only when its whole 95%% interval lies "
            + "beyond it (default: ${DEFAULT-VALUE}).")
    double threshold = 5;

    /** A percentage with or without its {@code %} sign. */
    static final class Percent implements CommandLine.ITypeConverter<Double> {
        @Override
        public Double convert(String value) {
            String v = value.strip();
            try {
                return Double.parseDouble(v.endsWith("%") ? v.substring(0, v.length() - 1).strip() : v);
            } catch (NumberFormatException e) {
                throw new CommandLine.TypeConversionException("'" + value + "' is not a percentage (e.g. 10 or 10%)");
            }
        }
    }

    @Option(names = "--gate", paramLabel = "WHAT,WHAT", split = ",", description = "What decides a group's verdict: "
            + "percentiles from 50, 90, 99, and populate (the time from the group's first fault to its last resolution). "
            + "Default: 50, or populate when the two groups differ in page size (a 2M fault is slower than a 4K one but "
            + "populates 512 times the memory). On a busy machine back-to-back replays moved p90 by up to 13%% and p99 by up to 25%%.")
    List<String> gate;

    @Option(names = "--match", paramLabel = "DIM,DIM", split = ",", description = "Pair groups only on these of ioctl, page, "
            + "backend, and pool each side's groups that agree on them (--match ioctl compares every COPY of the base with "
            + "every COPY of the candidate, whatever their backend and page size). Default: groups pair with the same group; "
            + "when each side has one and they differ, those two.")
    List<String> match;

    @Option(names = "--latency", paramLabel = "DEF", description = "Compare on this latency definition: end-to-end (t_wake - "
            + "t_fault: recordings and replays), fault-to-resolve (t_resolve_end - t_fault: what a passive capture measures; a "
            + "replay has it too) or service (t_resolve_end - t_read). Default: the first of these that both sides have for "
            + "every group, so a capture compares with a replay on fault -> resolve.")
    String latency;

    @Option(names = "--allow-missing", description = "Exit 0 when a group has faults on one side only, or none on both "
            + "(the summary still says so): for comparisons of files that are meant to differ in their groups.")
    boolean allowMissing;

    @Option(names = "--json", description = "Print the comparison's summary.json (per group: ratios, intervals, verdicts; the "
            + "outcome) on stdout instead of the table; the exit status is the same.")
    boolean json;

    @Option(names = "--seed", paramLabel = "N", description = "Seed of the bootstrap (default: ${DEFAULT-VALUE}).")
    long seed = 1;

    @Override
    public Integer call() throws Exception {
        CommandLine cl = spec.commandLine();
        if (!(threshold > 0 && threshold < 1000)) {
            throw new CommandLine.ParameterException(cl, "--threshold must be a percentage above 0, not " + threshold);
        }
        java.util.Set<String> gates = gate == null ? null : gates(cl);
        java.util.Set<Comparison.Dimension> dims = match == null ? null : dimensions(cl);
        Report.checkReplaceable(output);
        TraceAnalysis a = side(base);
        TraceAnalysis b = side(candidate);
        LatencySource source;
        try {
            source = Comparison.commonSource(a, b, latency == null ? null : latencyOption(cl));
        } catch (IllegalArgumentException e) {
            throw new java.io.IOException(e.getMessage() + (latency == null ? "" : "; leave out --latency to use one both have"));
        }
        List<GroupComparison> groups = Comparison.compare(a, b, source, new Comparison.Settings(threshold / 100, seed, gates, dims));
        CompareReport.write(a, b, groups, source, threshold / 100, output,
                "faultline " + String.join(" ", cl.getParseResult().originalArgs()));
        Comparison.Outcome outcome;
        if (json) {
            outcome = Comparison.outcome(groups);
            cl.getOut().println(java.nio.file.Files.readString(output.resolve("summary.json")).strip()); // what the report wrote
            cl.getOut().flush();
        } else {
            outcome = ComparisonTable.print(cl.getOut(), a, b, groups, source, latency != null, threshold, output);
        }
        boolean excused = allowMissing && (outcome == Comparison.Outcome.INCOMPLETE || outcome == Comparison.Outcome.NOTHING_COMPARED);
        return excused ? 0 : outcome.exitStatus();
    }

    private java.util.Set<String> gates(CommandLine cl) {
        java.util.Set<String> out = new java.util.LinkedHashSet<>();
        for (String g : gate) {
            String v = g.strip().toLowerCase(Locale.ROOT);
            switch (v) {
                case "50", "90", "99", "p50", "p90", "p99" -> out.add(v.startsWith("p") ? v : "p" + v);
                case Comparison.POPULATE -> out.add(v);
                default -> throw new CommandLine.ParameterException(cl, "--gate takes 50, 90, 99 and populate, not '" + g + "'");
            }
        }
        return out;
    }

    private java.util.Set<Comparison.Dimension> dimensions(CommandLine cl) {
        java.util.Set<Comparison.Dimension> out = java.util.EnumSet.noneOf(Comparison.Dimension.class);
        for (String m : match) {
            Comparison.Dimension d = Comparison.Dimension.named(m.strip());
            if (d == null) {
                throw new CommandLine.ParameterException(cl, "--match takes ioctl, page and backend, not '" + m + "'");
            }
            out.add(d);
        }
        return out;
    }


    private LatencySource latencyOption(CommandLine cl) {
        for (LatencySource s : LatencySource.values()) {
            if (s.optionName().equalsIgnoreCase(latency)) {
                return s;
            }
        }
        throw new CommandLine.ParameterException(cl, "--latency: unknown value '" + latency + "' (expected end-to-end, "
                + "fault-to-resolve or service)");
    }

    private static TraceAnalysis side(List<Path> files) throws java.io.IOException {
        List<TraceAnalysis> all = new java.util.ArrayList<>();
        for (Path f : files) {
            all.add(Analyzer.analyze(f, By.NONE));
        }
        return Comparison.pool(all);
    }
}
