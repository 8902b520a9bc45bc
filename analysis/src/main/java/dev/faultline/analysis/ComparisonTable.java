package dev.faultline.analysis;

import dev.faultline.analysis.Comparison.GroupComparison;
import dev.faultline.analysis.Comparison.PercentileChange;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * A comparison as {@code faultline compare} prints it: each side's file and kernel, the latency
 * definition, one line per percentile and group with the ratio, its 95% interval and verdict, the
 * populate line, each group's verdict, and the outcome in one line. The fleet job prints its fleet compare the same way.
 */
public final class ComparisonTable {
    private ComparisonTable() {
    }

    /**
     * Prints the comparison of {@code a} (base) and {@code b} and returns its outcome.
     *
     * @param asked     whether the latency definition was asked for (else the note says why this one)
     * @param threshold the threshold in percent
     * @param report    the report directory the last line points to
     */
    public static Comparison.Outcome print(PrintWriter o, TraceAnalysis a, TraceAnalysis b, List<GroupComparison> groups,
                                           LatencySource source, boolean asked, double threshold, Path report) {
        // which side is which, by file and kernel: a cross-kernel replay's two files differ in little else
        o.printf(Locale.ROOT, "%-10s %s  (kernel %s)%n", "base", a.file(), a.header().kernel());
        o.printf(Locale.ROOT, "%-10s %s  (kernel %s)%n", "candidate", b.file(), b.header().kernel());
        o.println("latency: " + source.description() + (!asked && !a.sources().isEmpty() && !b.sources().isEmpty()
                && (a.sources().getFirst() != source || b.sources().getFirst() != source)
                ? " (the definition both sides have: the base's own is " + a.sources().getFirst().shortName() + ", the candidate's "
                  + b.sources().getFirst().shortName() + ")" : ""));
        int width = Math.max(24, groups.stream().mapToInt(g -> g.key().label().length()).max().orElse(0));
        String label = "%-" + width + "s ";
        o.printf(Locale.ROOT, label + "%-8s %10s %10s %7s %17s  %s%n", "group", "", "base", "candidate", "ratio", "95% interval", "verdict");
        for (GroupComparison g : groups) {
            if (g.onlyIn() != null) {
                o.printf(Locale.ROOT, label + "=> MISSING: faults only in the %s (%,d base, %,d candidate)%n", g.key().label(), g.onlyIn(),
                        g.baseFaults(), g.candidateFaults());
                continue;
            }
            for (PercentileChange c : g.changes()) {
                o.printf(Locale.ROOT, label + "p%-7.0f %10s %10s %7.3f   [%6.3f, %6.3f]  %s%n", g.key().label(), c.percentile(),
                        Format.nanos(c.base()), Format.nanos(c.candidate()),
                        c.ratio(), c.low(), c.high(), c.verdict().label());
            }
            Comparison.PopulateChange pc = g.populate();
            if (pc != null) {
                o.printf(Locale.ROOT, label + "%-8s %10s %10s %7.3f   %-16s  %s  (%s vs %s MiB; %s vs %s per MiB)%n", g.key().label(),
                        Comparison.POPULATE, Format.nanos(pc.baseNanos()), Format.nanos(pc.candidateNanos()), pc.ratio(),
                        pc.resampled() ? String.format(Locale.ROOT, "[%6.3f, %6.3f]", pc.low(), pc.high()) : "(one run)",
                        pc.verdict().label(), Format.mib(pc.baseMib()), Format.mib(pc.candidateMib()), Format.nanos(pc.baseNanosPerMib()),
                        Format.nanos(pc.candidateNanosPerMib()));
            }
            o.printf(Locale.ROOT, label + "=> %s (on %s; resampled %s)%n", g.key().label(), g.verdict().label().toUpperCase(Locale.ROOT),
                    g.gatedOn(), g.runs());
        }
        Comparison.Outcome outcome = Comparison.outcome(groups);
        String shortfall = Comparison.shortfall(groups);
        String at = String.format(Locale.ROOT, "at a %.1f%% threshold", threshold);
        o.println(switch (outcome) {
            case REGRESSION, NO_REGRESSION -> outcome.label() + " " + at;
            case INCOMPLETE -> outcome.label() + ": " + shortfall + " (no regression " + at + " in the rest)";
            case NOTHING_COMPARED -> outcome.label() + ": " + shortfall;
        } + "; report: " + report.resolve("index.html"));
        o.flush();
        return outcome;
    }
}
