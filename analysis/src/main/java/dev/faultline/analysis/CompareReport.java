package dev.faultline.analysis;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.faultline.analysis.Comparison.GroupComparison;
import dev.faultline.analysis.Comparison.PercentileChange;
import dev.faultline.analysis.chart.ChartFiles;
import dev.faultline.analysis.chart.Charts;
import dev.faultline.core.trace.OutputFile;
import org.HdrHistogram.Histogram;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Writes a comparison as a report directory: {@code index.html} with the verdict table and the
 * side-by-side charts (overlaid percentile curves per group, paired boxes), and {@code summary.json}.
 * Built as {@code DIR.partial} and renamed into place, like {@link Report}.
 */
public final class CompareReport {
    private CompareReport() {
    }


    /** Writes the report of {@code groups}, compared on {@code source}'s latency. */
    public static void write(TraceAnalysis base, TraceAnalysis candidate, List<GroupComparison> groups, LatencySource source,
                             double threshold, Path dir, String command) throws IOException {
        Report.checkReplaceable(dir);
        Path partial = OutputFile.partial(dir);
        Report.deleteTree(partial);
        Files.createDirectories(partial);
        try {
            String from = base.file().getFileName() + " → " + candidate.file().getFileName();
            StringBuilder sb = new StringBuilder();
            boolean regressed = Comparison.anyRegression(groups);
            Comparison.Outcome outcome = Comparison.outcome(groups);
            String shortfall = Comparison.shortfall(groups);
            sb.append("<p>base <code>").append(Report.esc(base.file().toString())).append("</code> (kernel ")
                    .append(Report.esc(base.header().kernel())).append(") · candidate <code>").append(Report.esc(candidate.file().toString()))
                    .append("</code> (kernel ").append(Report.esc(candidate.header().kernel())).append(") · threshold ")
                    .append(String.format(Locale.ROOT, "%.1f%%", threshold * 100)).append(" · latency ")
                    .append(Report.esc(source.description())).append("</p>\n");
            sb.append("<p class=\"verdict-").append(outcome == Comparison.Outcome.NO_REGRESSION ? "none" : "regression").append("\">")
                    .append(switch (outcome) {
                        case REGRESSION -> "REGRESSION in at least one group";
                        case NO_REGRESSION -> "no group regressed";
                        case INCOMPLETE -> "INCOMPLETE: no group regressed, but " + Report.esc(shortfall);
                        case NOTHING_COMPARED -> "NOTHING COMPARED: " + Report.esc(shortfall);
                    }).append("</p>\n");
            sb.append("<table><tr><th>group</th><th>faults base / candidate</th><th>figure</th><th>base</th><th>candidate</th>"
                    + "<th>ratio</th><th>95% interval</th><th>verdict</th><th>resampled</th></tr>\n");
            for (GroupComparison g : groups) {
                if (g.onlyIn() != null) {
                    sb.append("<tr><td>").append(Report.esc(g.key().label())).append(String.format(Locale.ROOT,
                            "</td><td class=n>%,d / %,d</td><td colspan=7 class=\"verdict-regression\">missing: faults only in the %s</td></tr>\n",
                            g.baseFaults(), g.candidateFaults(), g.onlyIn()));
                    continue;
                }
                for (PercentileChange c : g.changes()) {
                    sb.append("<tr><td>").append(Report.esc(g.key().label())).append(String.format(Locale.ROOT,
                            "</td><td class=n>%,d / %,d</td><td>p%.0f</td><td class=n>%s</td><td class=n>%s</td><td class=n>%.3f</td>"
                                    + "<td class=n>[%.3f, %.3f]</td><td class=\"verdict-%s\">%s</td><td>%s</td></tr>\n",
                            g.baseFaults(), g.candidateFaults(), c.percentile(), Format.nanos(c.base()), Format.nanos(c.candidate()),
                            c.ratio(), c.low(), c.high(), c.verdict().name().toLowerCase(Locale.ROOT), c.verdict().label(),
                            Report.esc(g.runs())));
                }
                Comparison.PopulateChange pc = g.populate();
                if (pc != null) {
                    sb.append("<tr><td>").append(Report.esc(g.key().label())).append(String.format(Locale.ROOT,
                            "</td><td class=n>%,d / %,d</td><td>time to populate<br><small>%s / %s MiB; %s / %s per MiB</small></td>"
                                    + "<td class=n>%s</td><td class=n>%s</td><td class=n>%.3f</td><td class=n>%s</td>"
                                    + "<td class=\"verdict-%s\">%s</td><td>%s</td></tr>\n",
                            g.baseFaults(), g.candidateFaults(), Format.mib(pc.baseMib()), Format.mib(pc.candidateMib()),
                            Format.nanos(pc.baseNanosPerMib()), Format.nanos(pc.candidateNanosPerMib()), Format.nanos(pc.baseNanos()),
                            Format.nanos(pc.candidateNanos()), pc.ratio(),
                            pc.resampled() ? String.format(Locale.ROOT, "[%.3f, %.3f]", pc.low(), pc.high()) : "one run a side",
                            pc.verdict().name().toLowerCase(Locale.ROOT), pc.verdict().label(), pc.resampled() ? "runs" : "-"));
                }
                sb.append("<tr><td>").append(Report.esc(g.key().label())).append("</td><td colspan=8>verdict <b class=\"verdict-")
                        .append(g.verdict().name().toLowerCase(Locale.ROOT)).append("\">").append(g.verdict().label())
                        .append("</b> on ").append(Report.esc(g.gatedOn())).append("</td></tr>\n");
            }
            sb.append("</table>\n<h3>Charts</h3>\n");
            List<String> names = new ArrayList<>();
            List<Histogram> bs = new ArrayList<>();
            List<Histogram> cs = new ArrayList<>();
            for (GroupComparison g : groups) {
                if (g.onlyIn() != null) {
                    continue;
                }
                names.add(g.key().label());
                bs.add(g.base());
                cs.add(g.candidate());
                Report.image(sb, partial, ChartFiles.write(Charts.percentiles("Fault latency (" + source.shortName() + ") by percentile: " + g.key().label(), from,
                        List.of("base: " + base.file().getFileName(), "candidate: " + candidate.file().getFileName()),
                        List.of(g.base(), g.candidate())), partial, "percentiles-" + g.key().slug()));
            }
            if (!names.isEmpty()) {
                Report.image(sb, partial, ChartFiles.write(Charts.pairedBoxes("Base and candidate, per group", from, names, bs, cs),
                        partial, "boxes"));
            }
            Map<String, Object> json = new LinkedHashMap<>();
            json.put("command", command);
            json.put("base", base.file().toString());
            json.put("candidate", candidate.file().toString());
            json.put("threshold", threshold);
            json.put("latency", source.optionName());
            json.put("regression", regressed);
            json.put("outcome", outcome.label().toLowerCase(Locale.ROOT));
            json.put("shortfall", shortfall);
            List<Map<String, Object>> list = new ArrayList<>();
            for (GroupComparison g : groups) {
                Map<String, Object> j = new LinkedHashMap<>();
                j.put("group", g.key().label());
                j.put("ioctl", g.key().ioctl());
                j.put("page_size", g.key().pageSize());
                j.put("backend", g.key().backend());
                j.put("base_faults", g.baseFaults());
                j.put("candidate_faults", g.candidateFaults());
                j.put("verdict", g.onlyIn() != null ? "missing: only in the " + g.onlyIn() : g.verdict().label());
                j.put("resampled", g.runs());
                for (PercentileChange c : g.changes()) {
                    String p = String.format(Locale.ROOT, "p%.0f", c.percentile());
                    j.put(p + "_base_ns", c.base());
                    j.put(p + "_candidate_ns", c.candidate());
                    j.put(p + "_ratio", c.ratio());
                    j.put(p + "_ci", List.of(c.low(), c.high()));
                    j.put(p + "_verdict", c.verdict().label());
                }
                Comparison.PopulateChange pc = g.populate();
                if (pc != null) {
                    j.put("base_mib", pc.baseMib());
                    j.put("candidate_mib", pc.candidateMib());
                    j.put("populate_base_ns", pc.baseNanos());
                    j.put("populate_candidate_ns", pc.candidateNanos());
                    j.put("populate_ratio", pc.ratio());
                    j.put("populate_ci", pc.resampled() ? List.of(pc.low(), pc.high()) : null);
                    j.put("populate_verdict", pc.verdict().label());
                }
                j.put("gated_on", g.gatedOn());
                list.add(j);
            }
            json.put("groups", list);
            new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(partial.resolve("summary.json").toFile(), json);
            Files.writeString(partial.resolve("index.html"), Report.page("Faultline comparison", command, sb.toString()), StandardCharsets.UTF_8);
            Report.deleteTree(dir);
            Files.move(partial, dir, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException | RuntimeException e) {
            Report.deleteTree(partial);
            throw e;
        }
    }
}
