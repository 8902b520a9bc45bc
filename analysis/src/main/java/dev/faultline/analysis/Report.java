package dev.faultline.analysis;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.faultline.analysis.chart.ChartFiles;
import dev.faultline.analysis.chart.Charts;
import dev.faultline.core.trace.OutputFile;
import dev.faultline.core.trace.RegionInfo;
import dev.faultline.core.trace.TraceHeader;
import org.HdrHistogram.Histogram;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Writes an analysis as a report directory: {@code index.html} (one page that works opened from
 * disk: styles inline, charts embedded as PNG data, SVGs beside it), {@code summary.json},
 * {@code summary.csv} and every chart as PNG and SVG.
 *
 * <p>The directory is built as {@code DIR.partial} and renamed into place only when complete. An
 * existing DIR is replaced only if it is an earlier Faultline report (its index.html says so);
 * anything else is refused, so a mistyped {@code -o} cannot wipe a directory.
 */
public final class Report {
    /** The mark in every index.html we write, that lets a later report replace it. */
    static final String MARK = "<meta name=\"generator\" content=\"faultline report\">";
    private static final int HEATMAPS = 6;

    private Report() {
    }

    /** Writes the report of {@code analyses} to {@code dir}; {@code command} is shown on the page. */
    public static void write(List<TraceAnalysis> analyses, Path dir, String command) throws IOException {
        write(analyses, dir, command, "");
    }

    /** The same, with {@code introHtml} (already escaped HTML, e.g. findings and links) above the files' sections. */
    public static void write(List<TraceAnalysis> analyses, Path dir, String command, String introHtml) throws IOException {
        write(analyses, dir, command, introHtml, 0);
    }

    /**
     * The same, several files compared first against file {@code baseline} (an index into
     * {@code analyses}): the report opens with {@code introHtml}, then the comparison of every
     * file ({@link ComparisonView}), a table of contents, and each file's own section.
     */
    public static void write(List<TraceAnalysis> analyses, Path dir, String command, String introHtml, int baseline) throws IOException {
        if (baseline < 0 || baseline >= analyses.size()) {
            throw new IllegalArgumentException("baseline " + baseline + " is not one of the " + analyses.size() + " files");
        }
        checkReplaceable(dir);
        Path partial = OutputFile.partial(dir);
        deleteTree(partial);
        Files.createDirectories(partial);
        try {
            StringBuilder body = new StringBuilder(introHtml);
            if (analyses.size() > 1) {
                body.append(ComparisonView.html(analyses, baseline, partial));
                body.append(contents(analyses));
            }
            List<Map<String, Object>> files = new ArrayList<>();
            List<String> csv = new ArrayList<>();
            csv.add("file,ioctl,page_size,backend,part,faults,faults_per_s,latency_source,p50_ns,p90_ns,p99_ns,p999_ns,max_ns,"
                    + "queue_p50_ns,service_p50_ns,wake_p50_ns");
            for (int f = 0; f < analyses.size(); f++) {
                TraceAnalysis a = analyses.get(f);
                String prefix = analyses.size() > 1 ? "f" + (f + 1) + "-" : "";
                files.add(json(a));
                for (GroupStats g : a.groups()) {
                    csv.add(csvRow(a, g));
                }
                body.append(section(a, partial, prefix, "file-" + (f + 1)));
            }
            if (analyses.size() > 1) {
                body.append(jaccardTable(analyses));
            }
            Map<String, Object> summary = new LinkedHashMap<>();
            summary.put("command", command);
            summary.put("files", files);
            if (analyses.size() > 1) {
                summary.put("jaccard", jaccard(analyses));
                summary.put("baseline", analyses.get(baseline).file().toString());
                summary.put("comparison", ComparisonView.json(analyses, baseline));
            }
            new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(partial.resolve("summary.json").toFile(), summary);
            Files.write(partial.resolve("summary.csv"), csv, StandardCharsets.UTF_8);
            Files.writeString(partial.resolve("index.html"), page("Faultline report", command, body.toString()), StandardCharsets.UTF_8);
            deleteTree(dir);
            Files.move(partial, dir, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException | RuntimeException e) {
            deleteTree(partial);
            throw e;
        }
    }

    /** Refuses (with an IOException naming it) a non-empty directory that is not an earlier report. */
    public static void checkReplaceable(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        if (!Files.isDirectory(dir)) {
            throw new IOException(dir + " exists and is not a directory; choose another -o");
        }
        try (Stream<Path> s = Files.list(dir)) {
            if (s.findAny().isEmpty()) {
                return;
            }
        }
        Path index = dir.resolve("index.html");
        if (!Files.isRegularFile(index) || !Files.readString(index).contains(MARK)) {
            throw new IOException(dir + " is not empty and is not a Faultline report; choose another -o (nothing was written)");
        }
    }

    /** Deletes {@code p} and everything under it; nothing if it does not exist. */
    public static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) {
            return;
        }
        try (Stream<Path> s = Files.walk(p)) {
            for (Path q : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(q);
            }
        }
    }

    static Map<String, Object> json(TraceAnalysis a) {
        TraceHeader h = a.header();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("file", a.file().toString());
        m.put("source", h.source());
        m.put("kernel", h.kernel());
        m.put("host", h.host());
        m.put("started_at", h.startedAt());
        m.put("command", h.command());
        m.put("events", a.events());
        m.put("recovered", a.recovered());
        m.put("by", a.by().label());
        List<Map<String, Object>> regions = new ArrayList<>();
        for (RegionInfo r : h.regions()) {
            Map<String, Object> j = new LinkedHashMap<>();
            j.put("id", r.id());
            j.put("name", r.name());
            j.put("backend", r.backend());
            j.put("page_size", r.pageSize());
            j.put("length", r.length());
            j.put("modes", r.modes());
            regions.add(j);
        }
        m.put("regions", regions);
        WorkingSet ws = a.workingSet();
        Map<String, Object> w = new LinkedHashMap<>();
        w.put("faults", ws.faults());
        w.put("unique_pages", ws.uniquePages());
        w.put("refaults", ws.refaults());
        Map<String, Long> threads = new LinkedHashMap<>();
        ws.byThread().entrySet().stream().sorted(Map.Entry.comparingByKey())
                .forEach(e -> threads.put(Integer.toString(e.getKey()), e.getValue()));
        w.put("faults_by_thread", threads);
        m.put("working_set", w);
        if (a.blocktime() != null) {
            m.put("blocktime", blocktimeJson(a));
        }
        List<Map<String, Object>> groups = new ArrayList<>();
        for (GroupStats g : a.groups()) {
            Map<String, Object> j = new LinkedHashMap<>();
            j.put("ioctl", g.key().ioctl());
            j.put("page_size", g.key().pageSize());
            j.put("backend", g.key().backend());
            j.put("part", g.key().part());
            j.put("faults", g.faults());
            j.put("faults_per_s", Math.round(a.faultsPerSecond(g)));
            j.put("latency_source", g.latencySource());
            Histogram h2 = g.latency();
            j.put("p50_ns", h2.getValueAtPercentile(50));
            j.put("p90_ns", h2.getValueAtPercentile(90));
            j.put("p99_ns", h2.getValueAtPercentile(99));
            j.put("p999_ns", h2.getValueAtPercentile(99.9));
            j.put("max_ns", h2.getMaxValue());
            j.put("queue_p50_ns", g.queue().getTotalCount() == 0 ? null : g.queue().getValueAtPercentile(50));
            j.put("service_p50_ns", g.service().getTotalCount() == 0 ? null : g.service().getValueAtPercentile(50));
            j.put("wake_p50_ns", g.wake().getTotalCount() == 0 ? null : g.wake().getValueAtPercentile(50));
            j.put("fault_to_resolve_p50_ns", g.faultToResolve().getTotalCount() == 0 ? null
                    : g.faultToResolve().getValueAtPercentile(50));
            groups.add(j);
        }
        m.put("groups", groups);
        return m;
    }

    private static String csvRow(TraceAnalysis a, GroupStats g) {
        Histogram h = g.latency();
        return String.join(",", csv(a.file().toString()), g.key().ioctl(), Long.toString(g.key().pageSize()), g.key().backend(),
                csv(g.key().part()), Long.toString(g.faults()), Long.toString(Math.round(a.faultsPerSecond(g))),
                csv(g.latencySource()), Long.toString(h.getValueAtPercentile(50)), Long.toString(h.getValueAtPercentile(90)),
                Long.toString(h.getValueAtPercentile(99)), Long.toString(h.getValueAtPercentile(99.9)), Long.toString(h.getMaxValue()),
                p50(g.queue()), p50(g.service()), p50(g.wake()));
    }

    private static String p50(Histogram h) {
        return h.getTotalCount() == 0 ? "" : Long.toString(h.getValueAtPercentile(50));
    }

    private static String csv(String s) {
        return s.contains(",") || s.contains("\"") ? "\"" + s.replace("\"", "\"\"") + "\"" : s;
    }

    /** The table of contents of a report over several files: the comparison, then each file's section. */
    private static String contents(List<TraceAnalysis> analyses) {
        StringBuilder sb = new StringBuilder("<h2 id=\"contents\">Contents</h2>\n<ol>\n<li><a href=\"#" + ComparisonView.ID
                + "\">Comparison of every file</a></li>\n");
        for (int f = 0; f < analyses.size(); f++) {
            TraceAnalysis a = analyses.get(f);
            java.util.Set<String> groups = new java.util.LinkedHashSet<>();
            long faults = 0;
            for (GroupStats g : a.groups()) {
                groups.add(g.key().label());
                faults += g.faults();
            }
            sb.append("<li><a href=\"#file-").append(f + 1).append("\">").append(esc(a.file().getFileName().toString())).append("</a> — ")
                    .append(esc(Words.source(a.header().source()))).append(String.format(Locale.ROOT, ", %,d faults", faults))
                    .append(groups.isEmpty() ? "" : ": " + esc(String.join(", ", groups))).append("</li>\n");
        }
        sb.append("<li><a href=\"#similarity\">Working-set similarity</a></li>\n");
        return sb.append("</ol>\n").toString();
    }

    private static String section(TraceAnalysis a, Path dir, String prefix, String id) throws IOException {
        TraceHeader h = a.header();
        String from = a.file().getFileName() + " (" + h.source() + ", kernel " + h.kernel() + ")";
        StringBuilder sb = new StringBuilder();
        sb.append("<h2 id=\"").append(id).append("\">").append(esc(a.file().toString())).append("</h2>\n");
        sb.append("<table class=meta>");
        meta(sb, "source", Words.source(h.source()) + (h.command() == null ? "" : ": " + h.command()));
        meta(sb, "kernel", h.kernel() + " on " + h.host());
        meta(sb, "started", h.startedAt());
        meta(sb, "events", String.format(Locale.ROOT, "%,d rows%s", a.events(), a.recovered() ? " (RECOVERED: the writer did not finish)" : ""));
        h.extra().forEach((k, v) -> meta(sb, Words.key(k), Words.value(k, v)));
        a.footer().forEach((k, v) -> meta(sb, "at the end: " + Words.key(k), Words.value(k, v)));
        sb.append("</table>\n<h3>Regions</h3>\n<table><tr><th>id</th><th>name</th><th>backend</th><th>page</th><th>length</th><th>registered for</th></tr>");
        for (RegionInfo r : h.regions()) {
            sb.append("<tr><td>").append(r.id()).append("</td><td>").append(esc(r.name())).append("</td><td>").append(esc(r.backend()))
                    .append("</td><td>").append(Format.pageSize(r.pageSize())).append("</td><td class=n>")
                    .append(Words.bytes(r.length())).append("</td><td>").append(esc(Words.modes(r.modes()))).append("</td></tr>");
        }
        sb.append("</table>\n<h3>Fault latency by group</h3>\n<table><tr><th>group</th><th>faults</th><th>faults/s</th><th>p50</th><th>p90</th>"
                + "<th>p99</th><th>p99.9</th><th>max</th><th>queue p50</th><th>service p50</th><th>wake p50</th><th>latency is</th></tr>");
        for (GroupStats g : a.groups()) {
            Histogram l = g.latency();
            sb.append("<tr><td>").append(esc(g.key().label())).append("</td><td class=n>").append(String.format(Locale.ROOT, "%,d", g.faults()))
                    .append("</td><td class=n>").append(String.format(Locale.ROOT, "%,.0f", a.faultsPerSecond(g)))
                    .append(td(l, 50)).append(td(l, 90)).append(td(l, 99)).append(td(l, 99.9))
                    .append("<td class=n>").append(l.getTotalCount() == 0 ? "-" : Format.nanos(l.getMaxValue())).append("</td>")
                    .append(td(g.queue(), 50)).append(td(g.service(), 50)).append(td(g.wake(), 50))
                    .append("<td>").append(esc(g.latencySource())).append("</td></tr>");
        }
        sb.append("</table>\n");
        WorkingSet ws = a.workingSet();
        if (a.summary()) {
            sb.append("<h3>Working set</h3>\n<p>A summary capture (--detail summary) keeps histograms and counts, not the faulting "
                    + "pages: no working set or address map.</p>\n");
        } else {
            sb.append(String.format(Locale.ROOT, "<h3>Working set</h3>\n<p>%,d faults on %,d distinct pages; %,d re-faults; faults by thread: %s</p>\n",
                    ws.faults(), ws.uniquePages(), ws.refaults(), esc(ws.byThread().toString())));
        }
        if (a.blocktime() != null) {
            sb.append(blocktimeHtml(a));
        }

        List<GroupStats> groups = a.groups();
        if (groups.isEmpty()) {
            return sb.append("<p>No PAGEFAULT rows: nothing to chart.</p>\n").toString();
        }
        long t0 = Long.MAX_VALUE;
        for (GroupStats g : groups) {
            t0 = Math.min(t0, g.first());
        }
        List<String> names = new ArrayList<>();
        List<Histogram> hs = new ArrayList<>();
        for (GroupStats g : groups) {
            names.add(g.key().label());
            hs.add(g.latency());
        }
        sb.append("<h3>Charts</h3>\n");
        String latency = "fault latency (" + latencyLabel(groups) + ")";
        image(sb, dir, ChartFiles.write(Charts.percentiles("Fault latency by percentile", from, names, hs, latency), dir, prefix + "percentiles"));
        image(sb, dir, ChartFiles.write(Charts.boxes("Fault latency by ioctl, per backend and page size", from, groups, latency), dir,
                prefix + "boxes"));
        image(sb, dir, ChartFiles.write(Charts.decomposition("Where a fault's time goes: queue, service, wake", from, groups), dir, prefix + "decomposition"));
        if (t0 != Long.MAX_VALUE) {
            image(sb, dir, ChartFiles.write(Charts.rate("Faults per second over time", from, groups, t0, a.runStarts()), dir, prefix + "rate"));
            List<GroupStats> busiest = new ArrayList<>(groups);
            busiest.sort(Comparator.comparingLong(GroupStats::faults).reversed());
            for (GroupStats g : busiest.subList(0, Math.min(HEATMAPS, busiest.size()))) {
                image(sb, dir, ChartFiles.write(Charts.heatmap("Fault latency over time: " + g.key().label(), from,
                        g.latencyOverTime(), t0, Charts.log2LatencyAxis(), 1, true), dir, prefix + "heatmap-" + g.key().slug()));
            }
            for (Map.Entry<Integer, TimeGrid> e : a.addressMaps().entrySet()) {
                RegionInfo r = h.regions().get(e.getKey());
                image(sb, dir, ChartFiles.write(Charts.heatmap("Faulting addresses over time: region " + r.id() + " (" + r.name() + ")",
                        from, e.getValue(), t0, Charts.offsetAxis(), (double) r.length() / TraceAnalysis.ADDRESS_ROWS, false),
                        dir, prefix + "addresses-region" + r.id()));
            }
        }
        return sb.toString();
    }

    /** The latency definition the groups report, or "mixed: ..." when they differ. */
    static String latencyLabel(List<GroupStats> groups) {
        java.util.Set<String> names = new java.util.LinkedHashSet<>();
        for (GroupStats g : groups) {
            names.add(g.source().shortName());
        }
        return names.size() == 1 ? names.iterator().next() : "mixed: " + String.join(", ", names);
    }

    private static String blocktimeHtml(TraceAnalysis a) {
        Blocktime.Result b = a.blocktime();
        StringBuilder sb = new StringBuilder("<h3>Blocked time</h3>\n<p>How long faulting threads waited, by QEMU's definitions: a "
                + "thread is blocked from the handler's read of its fault to the exit of the ioctl that placed the page "
                + "(postcopy-vcpu-blocktime); the guest while every vCPU is blocked at once (postcopy-blocktime). "
                + "Overlap over " + esc(b.vcpusFrom()) + ".</p>\n<table><tr><th>tid</th><th>name</th><th>faults</th>"
                + "<th>blocked (read &rarr; resolve)</th><th>blocked (fault &rarr; resolve)</th></tr>");
        for (Blocktime.Thread t : b.threads().values()) {
            sb.append("<tr><td>").append(t.tid()).append("</td><td>").append(esc(a.threadNames().getOrDefault(t.tid(), "")))
                    .append("</td><td class=n>").append(String.format(Locale.ROOT, "%,d", t.faults())).append("</td><td class=n>")
                    .append(Format.nanos(t.readToResolve())).append("</td><td class=n>")
                    .append(t.timedFaults() == 0 ? "-" : Format.nanos(t.faultToResolve())).append("</td></tr>");
        }
        sb.append("</table>\n<p>");
        if (b.allBlocked() < 0) {
            sb.append("Overlap not computed: ").append(a.summary() ? "a summary capture keeps per-thread totals only."
                    : "it is computed for passive captures and their replays, of up to " + Blocktime.MAX_INTERVALS + " faults.");
        } else {
            sb.append("All of them blocked at once: <b>").append(Format.nanos(b.allBlocked())).append("</b>; at least one blocked: ")
                    .append(Format.nanos(b.anyBlocked())).append('.');
        }
        return sb.append("</p>\n").toString();
    }

    static Map<String, Object> blocktimeJson(TraceAnalysis a) {
        Blocktime.Result b = a.blocktime();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("definition", "read -> resolving ioctl's exit (QEMU's postcopy-vcpu-blocktime); all = every vCPU blocked at once "
                + "(postcopy-blocktime)");
        m.put("over", b.vcpusFrom());
        m.put("vcpus", b.vcpus());
        m.put("vcpu_blocked_ns", b.perVcpu());
        m.put("all_blocked_ns", b.allBlocked() < 0 ? null : b.allBlocked());
        m.put("any_blocked_ns", b.anyBlocked() < 0 ? null : b.anyBlocked());
        List<Map<String, Object>> threads = new ArrayList<>();
        for (Blocktime.Thread t : b.threads().values()) {
            Map<String, Object> j = new LinkedHashMap<>();
            j.put("tid", t.tid());
            j.put("name", a.threadNames().get(t.tid()));
            j.put("faults", t.faults());
            j.put("read_to_resolve_ns", t.readToResolve());
            j.put("fault_to_resolve_ns", t.timedFaults() == 0 ? null : t.faultToResolve());
            threads.add(j);
        }
        m.put("threads", threads);
        return m;
    }

    private static String td(Histogram h, double p) {
        return "<td class=n>" + (h.getTotalCount() == 0 ? "-" : Format.nanos(h.getValueAtPercentile(p))) + "</td>";
    }

    private static void meta(StringBuilder sb, String k, String v) {
        sb.append("<tr><th>").append(esc(k)).append("</th><td>").append(esc(v)).append("</td></tr>");
    }

    /** Embeds the PNG (so the page stands alone) and links its SVG. */
    static void image(StringBuilder sb, Path dir, String png) throws IOException {
        image(sb, dir, png, null);
    }

    /** The same, the figure given {@code id} (null for none) so that a link can point at it. */
    static void image(StringBuilder sb, Path dir, String png, String id) throws IOException {
        String b64 = Base64.getEncoder().encodeToString(Files.readAllBytes(dir.resolve(png)));
        String svg = png.replace(".png", ".svg");
        sb.append(id == null ? "<figure>" : "<figure id=\"" + esc(id) + "\">").append("<img alt=\"").append(esc(png)).append("\" src=\"data:image/png;base64,").append(b64)
                .append("\"><figcaption><a href=\"").append(esc(png)).append("\">PNG</a> · <a href=\"").append(esc(svg))
                .append("\">SVG</a></figcaption></figure>\n");
    }

    private static List<List<Double>> jaccard(List<TraceAnalysis> analyses) {
        List<List<Double>> m = new ArrayList<>();
        for (TraceAnalysis a : analyses) {
            List<Double> row = new ArrayList<>();
            for (TraceAnalysis b : analyses) {
                row.add(Math.round(a.workingSet().jaccard(b.workingSet()) * 1e4) / 1e4);
            }
            m.add(row);
        }
        return m;
    }

    private static String jaccardTable(List<TraceAnalysis> analyses) {
        StringBuilder sb = new StringBuilder("<h2 id=\"similarity\">Working-set similarity (Jaccard of the faulted pages)</h2>\n<table><tr><th></th>");
        for (int i = 0; i < analyses.size(); i++) {
            sb.append("<th>").append(i + 1).append("</th>");
        }
        sb.append("</tr>");
        List<List<Double>> m = jaccard(analyses);
        for (int i = 0; i < analyses.size(); i++) {
            sb.append("<tr><th>").append(i + 1).append(" ").append(esc(analyses.get(i).file().getFileName().toString())).append("</th>");
            for (double v : m.get(i)) {
                sb.append(String.format(Locale.ROOT, "<td class=n>%.3f</td>", v));
            }
            sb.append("</tr>");
        }
        return sb.append("</table>\n").toString();
    }

    static String page(String title, String command, String body) {
        return "<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8>" + MARK + "<title>" + esc(title) + "</title>\n<style>"
                + "body{font-family:system-ui,sans-serif;margin:2em;max-width:1100px;color:#222}"
                + "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}"
                + "td.n{text-align:right;font-variant-numeric:tabular-nums}table.meta th{background:#f4f4f4}"
                + "figure{margin:1em 0}img{max-width:100%;border:1px solid #ddd}code{background:#f4f4f4;padding:2px 4px}"
                + ".verdict-regression{color:#b00;font-weight:bold}.verdict-improvement{color:#070;font-weight:bold}"
                + "</style>\n"
                // counts what loaded and what failed, on the body, for whoever checks the page (a test, a CI job)
                + "<script>let errors=0;addEventListener('error',()=>errors++,true);addEventListener('load',()=>{"
                + "const i=[...document.images];document.body.dataset.images=i.filter(x=>x.complete&&x.naturalWidth>0).length"
                + "+'/'+i.length;document.body.dataset.errors=errors;document.body.dataset.loadMs=Math.round(performance.now());});</script>"
                + "</head><body>\n<h1>" + esc(title) + "</h1>\n<p>Made by <code>" + esc(command) + "</code></p>\n"
                + body + "</body></html>\n";
    }

    /** {@code s} escaped for HTML text and attributes (null as empty). */
    public static String esc(String s) {
        return s == null ? "" : s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
