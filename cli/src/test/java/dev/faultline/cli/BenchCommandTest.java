package dev.faultline.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code faultline bench} runs the real JMH round-trip suite; {@code analyze} of its output agrees with JMH's scores. */
class BenchCommandTest {

    @Test
    void roundTripsThenAnalyzeAgreeWithJmh(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("rt.json");
        CliRun bench = CliRun.of("bench", "roundtrip", "--quick", "--backend", "shmem", "-o", out.toString());
        assertEquals(0, bench.exit(), bench.err());
        assertTrue(bench.err().contains("skipping shmem MOVE: the kernel answers UFFDIO_MOVE"), bench.err());
        JsonNode results = new ObjectMapper().readTree(out.toFile());
        assertEquals(8, results.size(), "copy, zeropage, continue, wp × spin, poll");

        CliRun analyze = CliRun.of("analyze", out.toString(), "-o", dir.resolve("report").toString());
        assertEquals(0, analyze.exit(), analyze.err());
        JsonNode summary = new ObjectMapper().readTree(dir.resolve("report/summary.json").toFile());
        JsonNode groups = summary.get("files").get(0).get("groups");
        assertEquals(8, groups.size());
        for (JsonNode r : results) {
            double jmhMicros = r.get("primaryMetric").get("score").asDouble();
            String part = "backend=shmem op=" + r.get("params").get("op").asText() + " wait=" + r.get("params").get("wait").asText();
            JsonNode g = null;
            for (JsonNode c : groups) {
                if (c.get("part").asText().equals(part)) {
                    g = c;
                }
            }
            assertTrue(g != null, part);
            double ours = g.get("p50_ns").asDouble() / 1000;
            assertEquals(jmhMicros, ours, jmhMicros / 500 + 0.01, part + ": the report's p50 is JMH's score (one iteration)");
        }
    }
}
