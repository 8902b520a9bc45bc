package dev.faultline.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code faultline export} as a user runs it: without Hadoop on the class path, one line per trace, one-line refusals. */
class ExportCommandTest {
    private static final Path TRACES = Path.of("../traces");

    @Test
    void theSampleTracesExportWithoutHadoopOnTheClassPath(@TempDir Path dir) throws Exception {
        assertThrows(ClassNotFoundException.class, () -> Class.forName("org.apache.hadoop.conf.Configuration"),
                "the command line carries no Hadoop: Parquet is written without it");
        List<String> traces;
        try (Stream<Path> s = Files.list(TRACES)) {
            traces = s.filter(p -> p.toString().endsWith(".arrow")).map(Path::toString).sorted().toList();
        }
        Path out = dir.resolve("table");
        List<String> args = new java.util.ArrayList<>(List.of("export"));
        args.addAll(traces);
        args.addAll(List.of("-o", out.toString()));
        CliRun run = CliRun.of(args.toArray(String[]::new));
        assertEquals(0, run.exit(), run.err());
        assertTrue(run.out().contains("exported ") && run.out().contains("partitioned by kernel, backend"), run.out());
        for (String t : traces) {
            assertTrue(run.out().contains(t + ": "), "a line for " + t + ": " + run.out());
        }
        try (Stream<Path> s = Files.walk(out)) {
            List<Path> files = s.filter(p -> p.toString().endsWith(".parquet")).toList();
            assertTrue(files.size() >= traces.size(), files.toString());
            assertTrue(files.stream().anyMatch(p -> p.toString().contains("/backend=hugetlb/")), files.toString());
        }
    }

    @Test
    void aMissingTraceOrAFileAsTheOutputIsRefusedInOneLine(@TempDir Path dir) throws Exception {
        CliRun missing = CliRun.of("export", dir.resolve("nope.arrow").toString(), "-o", dir.resolve("t").toString());
        assertEquals(1, missing.exit());
        assertTrue(missing.err().startsWith("faultline export: ") && missing.err().contains("nope.arrow"), missing.err());
        assertEquals(1, missing.err().strip().lines().count(), missing.err());
        Path file = Files.writeString(dir.resolve("f"), "x");
        CliRun notDir = CliRun.of("export", TRACES.resolve("zipf-shmem-copy.arrow").toString(), "-o", file.toString());
        assertEquals(1, notDir.exit());
        assertTrue(notDir.err().contains("not a directory"), notDir.err());
        CliRun noOutput = CliRun.of("export", TRACES.resolve("zipf-shmem-copy.arrow").toString());
        assertEquals(2, noOutput.exit(), "usage error");
        assertFalse(noOutput.err().isEmpty());
    }

    @Test
    void jsonLinesGoToStdoutWithDashAndAnUnknownFormatIsAUsageError() {
        String trace = TRACES.resolve("zipf-shmem-copy.arrow").toString();
        CliRun jsonl = CliRun.of("export", trace, "--format", "jsonl", "-o", "-");
        assertEquals(0, jsonl.exit(), jsonl.err());
        List<String> lines = jsonl.out().lines().toList();
        assertEquals(2545, lines.size(), "one line per row of the trace");
        assertTrue(lines.getFirst().startsWith("{\"kernel\":") && lines.getFirst().contains("\"latency_ns\":"), lines.getFirst());
        CliRun csv = CliRun.of("export", trace, "--format", "CSV", "-o", "-");
        assertEquals(0, csv.exit(), csv.err());
        assertTrue(csv.out().startsWith("kernel,backend,trace,host,"), csv.out().lines().findFirst().orElse(""));
        assertEquals(2546, csv.out().lines().count(), "a header and the rows");
        CliRun xml = CliRun.of("export", trace, "--format", "xml", "-o", "-");
        assertEquals(2, xml.exit());
        assertTrue(xml.err().contains("'xml' is none of parquet, csv, jsonl"), xml.err());
        CliRun parquet = CliRun.of("export", trace, "-o", "-");
        assertEquals(2, parquet.exit());
        assertTrue(parquet.err().contains("use --format csv or jsonl for stdout"), parquet.err());
    }

    @Test
    void duckDbInNodeReadsTheExportWithEachTracesRowAndFaultCounts(@TempDir Path dir) throws Exception {
        Path interop = Path.of("../interop/js").toAbsolutePath().normalize();
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isDirectory(interop.resolve("node_modules/@duckdb/node-api")),
                "@duckdb/node-api is not installed: run 'npm ci' in " + interop + " (./run-tests does)");
        List<String> traces;
        try (Stream<Path> s = Files.list(TRACES)) {
            traces = s.filter(p -> p.toString().endsWith(".arrow")).map(Path::toString).sorted().toList();
        }
        List<String> args = new java.util.ArrayList<>(List.of("export"));
        args.addAll(traces);
        args.addAll(List.of("-o", dir.toString()));
        assertEquals(0, CliRun.of(args.toArray(String[]::new)).exit());
        Process node = new ProcessBuilder("node", interop.resolve("read-parquet.mjs").toString(), dir.toString())
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String out = new String(node.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(node.waitFor(60, java.util.concurrent.TimeUnit.SECONDS));
        assertEquals(0, node.exitValue(), out);
        var json = new com.fasterxml.jackson.databind.ObjectMapper().readTree(out);
        java.util.Map<String, long[]> duck = new java.util.HashMap<>();
        json.get("traces").forEach(t -> duck.put(t.get("trace").asText(), new long[] {t.get("rows").asLong(), t.get("faults").asLong()}));
        for (String t : traces) {
            long rows = 0;
            long faults = 0;
            try (var r = dev.faultline.core.trace.TraceReader.open(Path.of(t))) {
                var e = new dev.faultline.core.trace.TraceEvent();
                while (r.nextBatch()) {
                    for (int i = 0; i < r.batchRows(); i++) {
                        r.read(i, e);
                        rows++;
                        faults += e.kind == dev.faultline.core.trace.EventKind.PAGEFAULT ? 1 : 0;
                    }
                }
            }
            String name = Path.of(t).getFileName().toString();
            assertTrue(duck.containsKey(name), name + " in " + out);
            assertEquals(rows, duck.get(name)[0], name + ": rows");
            assertEquals(faults, duck.get(name)[1], name + ": faults");
        }
    }
}
