package dev.faultline.cli;

import dev.faultline.analysis.Analyzer;
import dev.faultline.analysis.By;
import dev.faultline.analysis.CompareReport;
import dev.faultline.analysis.Comparison;
import dev.faultline.analysis.Comparison.GroupComparison;
import dev.faultline.analysis.Comparison.PercentileChange;
import dev.faultline.analysis.Report;
import dev.faultline.analysis.TraceAnalysis;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code faultline compare}: base against candidate per group, with a verdict and an exit status CI can gate on. */
@Command(name = "compare", sortOptions = false, usageHelpAutoWidth = true, mixinStandardHelpOptions = true,
        description = {
            "Compare two traces or replay results group by group (ioctl × page size × backend): the ratio "
                + "candidate / base of p50, p90 and p99 with a 95% bootstrap interval, and a verdict — regression, "
                + "improvement or no change — against --threshold. Exits 3 when any group regressed, so it can gate a "
                + "kernel or handler change in CI.",
            "",
            "Give it replays with several runs (faultline replay --runs 5): the bootstrap then resamples runs and the "
                + "interval includes run-to-run noise. With one run a side it resamples faults, and says so.",
            "",
            "Examples:",
            "  faultline replay t.arrow --runs 5 -o a.arrow      (on kernel A)",
            "  faultline replay t.arrow --runs 5 -o b.arrow      (on kernel B)",
            "  faultline compare a.arrow b.arrow -o cmp"},
        exitCodeListHeading = "Exit status:%n",
        exitCodeList = {"0:no group regressed", "1:an error (one line on stderr)", "2:a usage error", "3:at least one group regressed"})
final class CompareCommand implements Callable<Integer> {
    static final int EXIT_REGRESSION = 3;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "BASE", description = "The reference trace or replay results.")
    Path base;

    @Parameters(index = "1", paramLabel = "CANDIDATE", description = "The one under test.")
    Path candidate;

    @Option(names = {"-o", "--output"}, paramLabel = "DIR", description = "The report directory (default: ${DEFAULT-VALUE}).")
    Path output = Path.of("compare");

    @Option(names = "--threshold", paramLabel = "PCT", description = "The relative change that counts, in percent (default: ${DEFAULT-VALUE}).")
    double threshold = 5;

    @Option(names = "--seed", paramLabel = "N", description = "Seed of the bootstrap (default: ${DEFAULT-VALUE}).")
    long seed = 1;

    @Override
    public Integer call() throws Exception {
        CommandLine cl = spec.commandLine();
        if (!(threshold > 0 && threshold < 1000)) {
            throw new CommandLine.ParameterException(cl, "--threshold must be a percentage above 0, not " + threshold);
        }
        Report.checkReplaceable(output);
        TraceAnalysis a = Analyzer.analyze(base, By.NONE);
        TraceAnalysis b = Analyzer.analyze(candidate, By.NONE);
        List<GroupComparison> groups = Comparison.compare(a, b, threshold / 100, seed);
        CompareReport.write(a, b, groups, threshold / 100, output,
                "faultline " + String.join(" ", cl.getParseResult().originalArgs()));
        PrintWriter o = cl.getOut();
        o.printf(Locale.ROOT, "%-24s %-5s %10s %10s %7s %17s  %s%n", "group", "", "base", "candidate", "ratio", "95% interval", "verdict");
        for (GroupComparison g : groups) {
            if (g.onlyIn() != null) {
                o.printf(Locale.ROOT, "%-24s only in the %s%n", g.key().label(), g.onlyIn());
                continue;
            }
            for (PercentileChange c : g.changes()) {
                o.printf(Locale.ROOT, "%-24s p%-4.0f %10s %10s %7.3f   [%6.3f, %6.3f]  %s%n", g.key().label(), c.percentile(),
                        dev.faultline.analysis.Format.nanos(c.base()), dev.faultline.analysis.Format.nanos(c.candidate()),
                        c.ratio(), c.low(), c.high(), c.verdict().label());
            }
            o.printf(Locale.ROOT, "%-24s => %s (resampled %s)%n", g.key().label(), g.verdict().label().toUpperCase(Locale.ROOT), g.runs());
        }
        boolean regressed = Comparison.anyRegression(groups);
        o.println((regressed ? "REGRESSION" : "no regression") + String.format(Locale.ROOT, " at a %.1f%% threshold; report: ", threshold)
                + output.resolve("index.html"));
        o.flush();
        return regressed ? EXIT_REGRESSION : 0;
    }
}
