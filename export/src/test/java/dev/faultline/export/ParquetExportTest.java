package dev.faultline.export;

import dev.faultline.core.trace.TraceEvent;
import dev.faultline.core.trace.TraceReader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The sample traces exported to Parquet and read back by DuckDB, an engine that shares no code
 * with Faultline: the same rows, counts and times, partitioned by kernel and backend.
 */
class ParquetExportTest {
    private static final Path SAMPLES = Path.of(System.getProperty("faultline.traces", "../traces"));

    static List<Path> samples() throws IOException {
        try (Stream<Path> s = Files.list(SAMPLES)) {
            return s.filter(p -> p.toString().endsWith(".arrow")).sorted().toList();
        }
    }

    private static final ExportListener QUIET = ExportListener.QUIET;

    /** Rows per (kernel, backend, kind, ioctl), and the sum of t_resolve_end and of latency, as Faultline reads the traces. */
    private static Map<String, long[]> expected(List<Path> traces) throws IOException {
        Map<String, long[]> out = new HashMap<>();
        TraceEvent e = new TraceEvent();
        for (Path p : traces) {
            try (TraceReader r = TraceReader.open(p)) {
                while (r.nextBatch()) {
                    for (int i = 0; i < r.batchRows(); i++) {
                        r.read(i, e);
                        long[] v = out.computeIfAbsent(r.header().kernel() + "|" + r.backend(i) + "|" + e.kind + "|" + e.ioctl,
                                k -> new long[4]);
                        v[0]++;
                        v[1] += e.tResolveEnd == TraceEvent.UNKNOWN ? 0 : e.tResolveEnd;
                        long l = ExportRow.latency(e);
                        v[2] += l == TraceEvent.UNKNOWN ? 0 : l;
                        v[3] += e.tWake == TraceEvent.UNKNOWN ? 1 : 0;
                    }
                }
            }
        }
        return out;
    }

    private static Map<String, long[]> duckdb(Path root) throws SQLException {
        Map<String, long[]> out = new HashMap<>();
        try (Connection c = DriverManager.getConnection("jdbc:duckdb:"); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT kernel, backend, kind, ioctl, count(*), coalesce(sum(t_resolve_end), 0), "
                     + "coalesce(sum(latency_ns), 0), count(*) FILTER (WHERE t_wake IS NULL) FROM read_parquet('"
                     + root + "/**/*.parquet', hive_partitioning = true) GROUP BY ALL")) {
            while (rs.next()) {
                out.put(rs.getString(1) + "|" + rs.getString(2) + "|" + rs.getString(3) + "|" + rs.getString(4),
                        new long[] {rs.getLong(5), rs.getLong(6), rs.getLong(7), rs.getLong(8)});
            }
        }
        return out;
    }

    @Test
    void theSampleTracesReadBackInDuckDbRowForRowByKernelAndBackend(@TempDir Path dir) throws Exception {
        List<Path> traces = samples();
        assertTrue(traces.size() >= 5, "the sample traces: " + traces);
        AtomicLong rows = new AtomicLong();
        List<ExportedTrace> done = ParquetExport.export(traces, dir, new ExportListener() {
            @Override
            public void rows(long n) {
                rows.addAndGet(n);
            }

            @Override
            public void exported(ExportedTrace t) {
            }
        });
        assertEquals(traces.size(), done.size());
        Map<String, long[]> want = expected(traces);
        long total = want.values().stream().mapToLong(v -> v[0]).sum();
        assertEquals(total, rows.get(), "progress counted every row");
        assertEquals(total, done.stream().mapToLong(ExportedTrace::rows).sum());

        Map<String, long[]> got = duckdb(dir);
        assertEquals(want.keySet(), got.keySet(), "the same kernels, backends, kinds and ioctls");
        for (String k : want.keySet()) {
            assertEquals(java.util.Arrays.toString(want.get(k)), java.util.Arrays.toString(got.get(k)),
                    k + ": rows, sum of t_resolve_end, of latency_ns, and rows with no t_wake");
        }
        try (Stream<Path> s = Files.walk(dir)) {
            List<Path> files = s.filter(Files::isRegularFile).toList();
            assertTrue(files.stream().allMatch(p -> p.getFileName().toString().endsWith(".parquet")), "no partial file left: " + files);
            assertTrue(files.stream().allMatch(p -> p.getParent().getFileName().toString().startsWith("backend=")
                    && p.getParent().getParent().getFileName().toString().startsWith("kernel=")), files.toString());
        }
        // the metadata columns, for a GROUP BY without Faultline
        try (Connection c = DriverManager.getConnection("jdbc:duckdb:"); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(DISTINCT trace), min(host), count(DISTINCT region_name), "
                     + "count(*) FILTER (WHERE page_size = 2097152) FROM read_parquet('" + dir + "/**/*.parquet', hive_partitioning = true)")) {
            assertTrue(rs.next());
            assertEquals(traces.size(), rs.getInt(1));
            assertFalse(rs.getString(2).isEmpty());
            assertTrue(rs.getInt(3) >= 1);
            assertTrue(rs.getLong(4) > 0, "the 2M sample's rows say their page size");
        }
    }

    @Test
    void exportingATraceAgainReplacesItsFilesRatherThanCountingItsRowsTwice(@TempDir Path dir) throws Exception {
        Path one = samples().getFirst();
        ParquetExport.export(List.of(one), dir, QUIET);
        ParquetExport.export(List.of(one, one, Path.of(one + "/../" + one.getFileName())), dir, QUIET); // listed thrice: once
        assertEquals(expected(List.of(one)).values().stream().mapToLong(v -> v[0]).sum(),
                duckdb(dir).values().stream().mapToLong(v -> v[0]).sum());
    }

    @Test
    void aDamagedTraceFailsInOneLineAndLeavesNoPartialFileWhileTheOthersStay(@TempDir Path dir) throws Exception {
        Path good = samples().getFirst();
        Path out = dir.resolve("out");
        ParquetExport.export(List.of(good), out, QUIET);
        Path bad = dir.resolve("foreign.arrow");
        Files.writeString(bad, "not an arrow file at all, but long enough to be read as one ......");
        IOException e = assertThrows(IOException.class, () -> ParquetExport.export(List.of(bad), out, QUIET));
        assertTrue(e.getMessage().contains("foreign.arrow"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        List<String> names = new ArrayList<>();
        try (Stream<Path> s = Files.walk(out)) {
            s.filter(Files::isRegularFile).forEach(p -> names.add(p.getFileName().toString()));
        }
        assertTrue(names.stream().allMatch(n -> n.endsWith(".parquet")) && !names.isEmpty(), names.toString());
        assertEquals(expected(List.of(good)).values().stream().mapToLong(v -> v[0]).sum(),
                duckdb(out).values().stream().mapToLong(v -> v[0]).sum(), "what was exported before is still there");

        Path file = dir.resolve("a-file");
        Files.writeString(file, "x");
        IOException notDir = assertThrows(IOException.class, () -> ParquetExport.export(List.of(good), file, QUIET));
        assertTrue(notDir.getMessage().contains("not a directory"), notDir.getMessage());
    }

    @Test
    void hivePartitionValuesAreEscapedAsHiveEscapesThem() {
        assertEquals("6.1.0-47-amd64", HivePartition.escape("6.1.0-47-amd64"));
        assertEquals("a%2Fb%3Dc%20d", HivePartition.escape("a/b=c d"));
        assertEquals(HivePartition.DEFAULT, HivePartition.escape(""));
    }
}
