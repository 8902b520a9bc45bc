package dev.faultline.analysis;

import dev.faultline.analysis.chart.ChartFiles;
import dev.faultline.analysis.chart.Charts;
import org.HdrHistogram.Histogram;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The section that opens a report over several files: every group of every file in one table
 * (percentiles, the mean split that adds up, the whole-run figures, ratios against a baseline
 * file) and on shared charts (percentile curves, boxes side by side, the split), so that shmem vs
 * anon, 4K vs 2M or COPY vs CONTINUE read off one place. The files' own sections follow it.
 *
 * <p>A group's counterpart in the baseline is the baseline's group with the same key, else the
 * baseline's only group (a replay of the same trace on another backend, page size or ioctl); a
 * group with neither has no ratio.
 */
public final class ComparisonView {
    /** The id of the section, and of its charts, for links from findings: {@code #comparison}, {@code #comparison-percentiles} … */
    public static final String ID = "comparison";

    /**
     * One group of one file, as the view shows it.
     *
     * @param file         the file's index in the report (0-based)
     * @param name         the file's short name ("replay-anon")
     * @param mib          the MiB the group's faults populated, median over runs; NaN where unknown (a split group, JMH)
     * @param populateNanos first fault to last resolution, median over runs; NaN where unknown
     */
    public record Row(int file, String name, GroupStats group, double mib, double populateNanos) {
        /** {@code replay-anon · COPY 4K anon}: how charts and tables name the row. */
        public String label() {
            return name + " · " + group.key().label();
        }

        double p(double q) {
            Histogram h = group.latency();
            return h.getTotalCount() == 0 ? Double.NaN : h.getValueAtPercentile(q);
        }
    }

    private ComparisonView() {
    }

    /** Every group of every file, files in order. */
    public static List<Row> rows(List<TraceAnalysis> analyses) {
        List<Row> rows = new ArrayList<>();
        List<String> names = shortNames(analyses);
        for (int f = 0; f < analyses.size(); f++) {
            TraceAnalysis a = analyses.get(f);
            for (GroupStats g : a.groups()) {
                double mib = Double.NaN;
                double nanos = Double.NaN;
                if (g.key().part().isEmpty()) {
                    GroupKey k = new GroupKey(g.key().ioctl(), g.key().pageSize(), g.key().backend(), "");
                    java.util.Collection<RunSpan> runs = a.spans().getOrDefault(k, Map.of()).values();
                    nanos = RunSpan.median(runs, RunSpan::nanos);
                    mib = RunSpan.median(runs, RunSpan::mib);
                }
                rows.add(new Row(f, names.get(f), g, mib, nanos));
            }
        }
        return rows;
    }

    /** The baseline's counterpart of {@code row}: the same key, else the baseline's only group; null if none (or row is the baseline's). */
    public static Row counterpart(List<Row> rows, Row row, int baseline) {
        if (row.file() == baseline) {
            return null;
        }
        List<Row> base = rows.stream().filter(r -> r.file() == baseline).toList();
        for (Row b : base) {
            if (b.group().key().equals(row.group().key())) {
                return b;
            }
        }
        return base.size() == 1 ? base.getFirst() : null;
    }

    /** The section's HTML (charts written into {@code dir}), comparing every file with file {@code baseline}. */
    static String html(List<TraceAnalysis> analyses, int baseline, Path dir) throws IOException {
        List<Row> rows = rows(analyses);
        StringBuilder sb = new StringBuilder();
        sb.append("<h2 id=\"").append(ID).append("\">Comparison of ").append(analyses.size()).append(" files</h2>\n");
        sb.append("<p>Every group of every file, against <b>").append(Report.esc(rows.isEmpty() ? "" : shortNames(analyses).get(baseline)))
                .append("</b> (the baseline). Latency is each group's own (the last column); <i>populate</i> is the whole run: "
                        + "from the group's first fault to its last resolution, median over runs, with the MiB its faults filled — "
                        + "what 4K and 2M pages compare on.</p>\n");
        sb.append("<table><tr><th>file</th><th>group</th><th>faults</th><th>p50</th><th>p90</th><th>p99</th>"
                + "<th>mean: queue + service + wake</th><th>MiB</th><th>populate</th><th>per MiB</th>"
                + "<th>p50 vs baseline</th><th>populate vs baseline</th><th>latency is</th></tr>\n");
        for (Row r : rows) {
            GroupStats g = r.group();
            Row b = counterpart(rows, r, baseline);
            sb.append("<tr><td>").append(Report.esc(r.name())).append("</td><td>").append(Report.esc(g.key().label()))
                    .append(String.format(Locale.ROOT, "</td><td class=n>%,d</td>", g.faults()))
                    .append(td(r.p(50))).append(td(r.p(90))).append(td(r.p(99)))
                    .append("<td class=n>").append(split(g)).append("</td>")
                    .append("<td class=n>").append(Double.isNaN(r.mib()) ? "-" : Format.mib(r.mib())).append("</td>")
                    .append(td(r.populateNanos()))
                    .append(td(Double.isNaN(r.mib()) || r.mib() == 0 ? Double.NaN : r.populateNanos() / r.mib()))
                    .append("<td class=n>").append(r.file() == baseline ? "baseline" : ratio(r.p(50), b == null ? Double.NaN : b.p(50)))
                    .append("</td><td class=n>").append(r.file() == baseline ? "baseline"
                            : ratio(r.populateNanos(), b == null ? Double.NaN : b.populateNanos()))
                    .append("</td><td>").append(Report.esc(g.source().shortName())).append("</td></tr>\n");
        }
        sb.append("</table>\n");
        List<String> names = new ArrayList<>();
        List<Histogram> hs = new ArrayList<>();
        List<String> categories = new ArrayList<>();
        List<String> series = new ArrayList<>();
        List<GroupStats> groups = new ArrayList<>();
        for (Row r : rows) {
            if (r.group().latency().getTotalCount() == 0) {
                continue;
            }
            names.add(r.label());
            hs.add(r.group().latency());
            categories.add(r.group().key().ioctl() + " " + Format.pageSize(r.group().key().pageSize()));
            series.add(r.name() + " · " + r.group().key().backend() + (r.group().key().part().isEmpty() ? "" : " " + r.group().key().part()));
            groups.add(r.group());
        }
        if (names.isEmpty()) {
            return sb.append("<p>No file has a timed fault: nothing to chart.</p>\n").toString();
        }
        String latency = "fault latency (" + Report.latencyLabel(groups) + ")";
        String from = analyses.size() + " files; baseline " + shortNames(analyses).get(baseline);
        Report.image(sb, dir, ChartFiles.write(Charts.percentiles("Fault latency by percentile, every file", from, names, hs, latency),
                dir, "comparison-percentiles"), ID + "-percentiles");
        Report.image(sb, dir, ChartFiles.write(Charts.boxes("Fault latency side by side, by ioctl and page size", from, categories,
                series, hs, latency), dir, "comparison-boxes"), ID + "-boxes");
        Report.image(sb, dir, ChartFiles.write(Charts.decomposition("Where a fault's time goes, every file (means: the parts add up)",
                from, names, groups), dir, "comparison-split"), ID + "-split");
        return sb.toString();
    }

    /** The rows as summary.json lists them. */
    static List<Map<String, Object>> json(List<TraceAnalysis> analyses, int baseline) {
        List<Row> rows = rows(analyses);
        List<Map<String, Object>> out = new ArrayList<>();
        for (Row r : rows) {
            Row b = counterpart(rows, r, baseline);
            Map<String, Object> j = new LinkedHashMap<>();
            j.put("file", analyses.get(r.file()).file().toString());
            j.put("group", r.group().key().label());
            j.put("faults", r.group().faults());
            j.put("p50_ns", nullIfNaN(r.p(50)));
            j.put("p99_ns", nullIfNaN(r.p(99)));
            j.put("mib", nullIfNaN(r.mib()));
            j.put("populate_ns", nullIfNaN(r.populateNanos()));
            j.put("baseline", r.file() == baseline);
            j.put("p50_vs_baseline", b == null ? null : nullIfNaN(r.p(50) / b.p(50)));
            j.put("populate_vs_baseline", b == null ? null : nullIfNaN(r.populateNanos() / b.populateNanos()));
            out.add(j);
        }
        return out;
    }

    /** File names without their directory and {@code .arrow}, numbered where two would read the same. */
    public static List<String> shortNames(List<TraceAnalysis> analyses) {
        List<String> names = new ArrayList<>();
        for (TraceAnalysis a : analyses) {
            names.add(a.file().getFileName().toString().replaceFirst("\\.arrow$", ""));
        }
        if (names.stream().distinct().count() < names.size()) {
            for (int i = 0; i < names.size(); i++) {
                names.set(i, (i + 1) + ":" + names.get(i));
            }
        }
        return names;
    }

    private static String split(GroupStats g) {
        if (g.queue().getTotalCount() == 0 && g.service().getTotalCount() == 0) {
            return "-";
        }
        return mean(g.queue()) + " + " + mean(g.service()) + " + " + mean(g.wake());
    }

    private static String mean(Histogram h) {
        return h.getTotalCount() == 0 ? "-" : Format.nanos(h.getMean());
    }

    private static String td(double ns) {
        return "<td class=n>" + (Double.isNaN(ns) ? "-" : Format.nanos(ns)) + "</td>";
    }

    private static String ratio(double v, double base) {
        return Double.isNaN(v) || Double.isNaN(base) || base <= 0 ? "-" : String.format(Locale.ROOT, "×%.2f", v / base);
    }

    private static Object nullIfNaN(double v) {
        return Double.isNaN(v) || Double.isInfinite(v) ? null : v;
    }
}
