package dev.faultline.analysis;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.faultline.core.trace.TraceFormatException;
import dev.faultline.core.trace.TraceHeader;
import org.HdrHistogram.Histogram;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * A JMH result file ({@code -rf json}) read as an analysis: one group per benchmark and parameter
 * set (backend {@code jmh}), its measurements in nanoseconds per operation, and one run per
 * measurement iteration, so that {@code compare} resamples iterations as it resamples replay runs.
 *
 * <p>SampleTime results give every sample ({@code rawDataHistogram}); average-time, single-shot and
 * throughput results give one score per iteration (throughput converted to time per operation).
 */
public final class JmhResults {
    private JmhResults() {
    }

    /** Whether {@code file} looks like JSON (its first non-blank byte is '[' or '{'). */
    public static boolean looksLikeJson(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            int b;
            while ((b = in.read()) >= 0) {
                if (!Character.isWhitespace(b)) {
                    return b == '[' || b == '{';
                }
            }
        }
        return false;
    }

    /** Reads a JMH JSON result file. */
    public static TraceAnalysis analyze(Path file) throws IOException {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(file.toFile());
        } catch (IOException e) {
            throw new TraceFormatException(file + " is neither a trace nor readable JSON: " + e.getMessage().lines().findFirst().orElse(""));
        }
        if (!root.isArray() || root.isEmpty() || !root.get(0).has("benchmark") || !root.get(0).has("primaryMetric")) {
            throw new TraceFormatException(file + " is JSON but not a JMH result file (an array of objects with "
                    + "'benchmark' and 'primaryMetric')");
        }
        Map<GroupKey, GroupStats> groups = new LinkedHashMap<>();
        Map<GroupKey, Map<Integer, Histogram>> runs = new TreeMap<>();
        long samples = 0;
        Map<String, String> extra = new LinkedHashMap<>();
        for (JsonNode b : root) {
            String mode = b.path("mode").asText();
            JsonNode metric = b.get("primaryMetric");
            String unit = metric.path("scoreUnit").asText();
            double toNanos = nanosPerUnit(unit, file);
            boolean throughput = unit.startsWith("ops/");
            String name = b.path("benchmark").asText();
            name = name.substring(name.lastIndexOf('.', name.lastIndexOf('.') - 1) + 1); // Class.method
            StringBuilder params = new StringBuilder();
            b.path("params").fields().forEachRemaining(p -> params.append(params.isEmpty() ? "" : " ").append(p.getKey()).append('=').append(p.getValue().asText()));
            GroupKey key = new GroupKey(name, 0, "jmh", params.toString());
            GroupStats g = groups.computeIfAbsent(key, GroupStats::new);
            Map<Integer, Histogram> byRun = runs.computeIfAbsent(key, k -> new TreeMap<>());
            String source = "JMH " + mode + " (" + unit + ", as ns per op)";
            int run = 0;
            if (metric.has("rawDataHistogram")) {
                for (JsonNode fork : metric.get("rawDataHistogram")) {
                    for (JsonNode iteration : fork) {
                        Histogram h = byRun.computeIfAbsent(run++, r -> new Histogram(3));
                        for (JsonNode pair : iteration) {
                            long ns = Math.round(pair.get(0).asDouble() * toNanos);
                            long count = pair.get(1).asLong();
                            g.addSamples(ns, count, source);
                            h.recordValueWithCount(Math.max(1, ns), count);
                            samples += count;
                        }
                    }
                }
            } else {
                for (JsonNode fork : metric.path("rawData")) {
                    for (JsonNode score : fork) {
                        double v = score.asDouble();
                        long ns = Math.round(throughput ? toNanos / Math.max(1e-300, v) : v * toNanos);
                        g.addSamples(ns, 1, source);
                        byRun.computeIfAbsent(run++, r -> new Histogram(3)).recordValue(Math.max(1, ns));
                        samples++;
                    }
                }
            }
            extra.putIfAbsent("jmh", b.path("jmhVersion").asText());
            extra.putIfAbsent("jvm", b.path("vmName").asText() + " " + b.path("vmVersion").asText());
        }
        TraceHeader header = new TraceHeader("-", "not in JMH results", "not in JMH results", 0, "jmh", null,
                Files.getLastModifiedTime(file).toInstant().toString(), List.of(), extra);
        List<GroupStats> list = new ArrayList<>(groups.values());
        return new TraceAnalysis(file, header, Map.of(), By.NONE, List.copyOf(list), runs, Map.of(LatencySource.END_TO_END, runs), Map.of(),
                new WorkingSet(), new HashMap<>(),
                samples, false, null, Map.of());
    }

    /**
     * Nanoseconds per unit of a JMH score: for time units (ns/op …) the time; for throughput units
     * (ops/s …) the nanoseconds in the time unit, so that ns per op = that / score.
     */
    static double nanosPerUnit(String unit, Path file) throws TraceFormatException {
        String time = unit.toLowerCase(Locale.ROOT).replace("ops/", "").replace("/op", "");
        return switch (time) {
            case "ns" -> 1;
            case "us" -> 1e3;
            case "ms" -> 1e6;
            case "s" -> 1e9;
            case "min" -> 60e9;
            default -> throw new TraceFormatException(file + ": JMH score unit '" + unit + "' is not a time or a rate");
        };
    }
}
