package dev.faultline.analysis;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** JMH result JSON as an input of analyze and compare. */
class JmhResultsTest {

    /** A JMH SampleTime result: 3 iterations of samples around {@code micros} µs, plus an avgt and a thrpt benchmark. */
    static Path jmh(Path dir, String name, double micros) throws IOException {
        StringBuilder iterations = new StringBuilder();
        for (int it = 0; it < 3; it++) {
            iterations.append(it == 0 ? "" : ",").append(String.format(Locale.ROOT, "[[%.3f,40],[%.3f,50],[%.3f,9],[%.3f,1]]",
                    micros * (0.9 + it * 0.01), micros, micros * 1.5, micros * 10));
        }
        String json = """
                [ {
                  "jmhVersion" : "1.37", "benchmark" : "dev.faultline.bench.FaultBench.copy", "mode" : "sample",
                  "vmName" : "OpenJDK 64-Bit Server VM", "vmVersion" : "25",
                  "params" : { "backend" : "shmem" },
                  "primaryMetric" : { "score" : %1$s, "scoreUnit" : "us/op", "rawDataHistogram" : [ [ %2$s ] ] }
                }, {
                  "jmhVersion" : "1.37", "benchmark" : "dev.faultline.bench.FaultBench.avg", "mode" : "avgt",
                  "primaryMetric" : { "score" : 2.0, "scoreUnit" : "ms/op", "rawData" : [ [ 2.0, 2.1, 1.9 ] ] }
                }, {
                  "jmhVersion" : "1.37", "benchmark" : "dev.faultline.bench.FaultBench.rate", "mode" : "thrpt",
                  "primaryMetric" : { "score" : 50000, "scoreUnit" : "ops/s", "rawData" : [ [ 50000, 50000 ] ] }
                } ]
                """.formatted(String.format(Locale.ROOT, "%.3f", micros), iterations);
        Path f = dir.resolve(name);
        Files.writeString(f, json);
        return f;
    }

    @Test
    void samplesIterationsAndUnitsBecomeGroupsAndRuns(@TempDir Path dir) throws IOException {
        TraceAnalysis a = Analyzer.analyze(jmh(dir, "a.json", 15), By.NONE);
        assertEquals("jmh", a.header().source());
        assertEquals(3, a.groups().size());
        GroupStats copy = a.groups().get(0);
        assertEquals("FaultBench.copy jmh backend=shmem", copy.key().label());
        assertEquals(300, copy.faults(), "100 samples in each of 3 iterations");
        assertEquals(15_000, copy.latency().getValueAtPercentile(50), 15, "µs as ns");
        assertTrue(copy.latencySource().startsWith("JMH sample"), copy.latencySource());
        assertEquals(3, a.runs().get(copy.key()).size(), "one run per iteration");
        assertEquals(2_000_000, a.groups().get(1).latency().getValueAtPercentile(50), 2_000);
        assertEquals(20_000, a.groups().get(2).latency().getValueAtPercentile(50), 20, "50k ops/s is 20 µs per op");

        Path out = dir.resolve("report");
        Report.write(List.of(a), out, "faultline analyze a.json");
        assertTrue(Files.readString(out.resolve("index.html")).contains("FaultBench.copy jmh backend=shmem"));
    }

    @Test
    void compareSeesASlowerBenchmark(@TempDir Path dir) throws IOException {
        TraceAnalysis base = Analyzer.analyze(jmh(dir, "a.json", 15), By.NONE);
        TraceAnalysis slower = Analyzer.analyze(jmh(dir, "b.json", 30), By.NONE);
        List<Comparison.GroupComparison> c = Comparison.compare(base, slower, 0.05, 1);
        Comparison.GroupComparison copy = c.stream().filter(g -> g.key().ioctl().equals("FaultBench.copy")).findFirst().orElseThrow();
        assertEquals(Comparison.Verdict.REGRESSION, copy.verdict(), copy.toString());
        assertEquals(2.0, copy.changes().getFirst().ratio(), 0.01);
        assertTrue(copy.runs().contains("3 vs 3 runs"));
        Comparison.GroupComparison avg = c.stream().filter(g -> g.key().ioctl().equals("FaultBench.avg")).findFirst().orElseThrow();
        assertEquals(Comparison.Verdict.NO_CHANGE, avg.verdict(), "the same avgt scores on both sides");
    }

    @Test
    void jsonThatIsNotJmhIsRefusedInOneLine(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("x.json");
        Files.writeString(f, "{\"hello\": 1}");
        IOException e = assertThrows(IOException.class, () -> Analyzer.analyze(f, By.NONE));
        assertTrue(e.getMessage().endsWith("is JSON but not a JMH result file (an array of objects with 'benchmark' and 'primaryMetric')"),
                e.getMessage());
        Files.writeString(f, "[1, 2");
        e = assertThrows(IOException.class, () -> Analyzer.analyze(f, By.NONE));
        assertTrue(e.getMessage().contains("is neither a trace nor readable JSON"), e.getMessage());
    }
}
