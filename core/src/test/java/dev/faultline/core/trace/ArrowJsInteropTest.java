package dev.faultline.core.trace;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A trace written by Faultline read by another Arrow implementation: apache-arrow for JavaScript
 * (interop/js, installed by ./run-tests), uncompressed and, with fzstd registered as its ZSTD codec,
 * every sample trace as the project ships it.
 */
class ArrowJsInteropTest {
    static final Path INTEROP = Path.of("..", "interop", "js").toAbsolutePath().normalize();

    @Test
    void apacheArrowJsReadsAnUncompressedTrace(@TempDir Path dir) throws Exception {
        assumeTrue(Files.isDirectory(INTEROP.resolve("node_modules/apache-arrow")),
                "apache-arrow is not installed: run 'npm ci' in " + INTEROP + " (./run-tests does)");
        int rows = 70_000; // more than one batch
        Path trace = dir.resolve("t.arrow");
        TraceFiles.write(trace, rows, Compression.NONE);

        JsonNode js = new ObjectMapper().readTree(node(trace.toString(), "5"));

        assertEquals(rows, js.get("rows").asInt());
        assertEquals(2, js.get("batches").asInt());
        assertEquals(TraceHeader.FORMAT, js.get("metadata").get(TraceHeader.KEY_FORMAT).asText());
        assertEquals("value", js.get("metadata").get("test.key").asText());
        assertTrue(js.get("metadata").get(TraceHeader.KEY_REGIONS).asText().contains("\"hugetlb\""));
        assertEquals(TraceSchema.schema(Map.of(), false).getFields().size(), js.get("columns").size());

        Map<EventKind, Integer> kinds = new EnumMap<>(EventKind.class);
        TraceEvent e = new TraceEvent();
        for (int n = 0; n < rows; n++) {
            kinds.merge(TraceFiles.row(n, e).kind, 1, Integer::sum);
        }
        kinds.forEach((k, count) -> assertEquals(count, js.get("kinds").get(k.name()).asInt(), k.name()));

        for (int n = 0; n < 5; n++) {
            JsonNode row = js.get("first").get(n);
            TraceFiles.row(n, e);
            assertEquals(e.seq, row.get("seq").asLong());
            assertEquals(e.kind.name(), row.get("kind").asText());
            assertEquals(e.ioctl.name(), row.get("ioctl").asText());
            assertEquals(e.address, row.get("address").asLong());
            assertEquals(e.result, row.get("result").asInt());
            assertEquals(e.tRead, row.get("t_read").asLong());
            if (e.tFault == TraceEvent.UNKNOWN) {
                assertTrue(row.get("t_fault").isNull(), "unknown time reads as null");
            } else {
                assertEquals(e.tFault, row.get("t_fault").asLong());
            }
        }
    }

    @Test
    void apacheArrowJsReadsEverySampleTraceAsShipped() throws Exception {
        assumeTrue(Files.isDirectory(INTEROP.resolve("node_modules/fzstd")),
                "apache-arrow and fzstd are not installed: run 'npm ci' in " + INTEROP + " (./run-tests does)");
        java.util.List<Path> samples;
        try (var s = Files.list(Path.of("..", "traces"))) {
            samples = s.filter(p -> p.toString().endsWith(".arrow")).sorted().toList();
        }
        assertTrue(samples.size() >= 5, samples.toString());
        for (Path p : samples) {
            JsonNode js = new ObjectMapper().readTree(node(p.toString(), "2"));
            Map<String, Integer> kinds = new java.util.TreeMap<>();
            long rows = 0;
            TraceEvent e = new TraceEvent();
            try (TraceReader r = TraceReader.open(p)) {
                while (r.nextBatch()) {
                    for (int i = 0; i < r.batchRows(); i++) {
                        r.read(i, e);
                        kinds.merge(e.kind.name(), 1, Integer::sum);
                        rows++;
                    }
                }
            }
            assertEquals(rows, js.get("rows").asLong(), p + ": rows");
            kinds.forEach((k, n) -> assertEquals(n.intValue(), js.get("kinds").get(k).asInt(), p + ": " + k));
        }
    }

    private static String node(String... args) throws IOException, InterruptedException {
        var cmd = new java.util.ArrayList<String>(java.util.List.of("node", INTEROP.resolve("read-trace.mjs").toString()));
        cmd.addAll(java.util.List.of(args));
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "node did not finish");
        assertEquals(0, p.exitValue(), "node read-trace.mjs failed: " + out);
        return out;
    }
}
