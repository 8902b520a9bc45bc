package dev.faultline.export;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.faultline.core.trace.TraceEvent;
import dev.faultline.core.trace.TraceReader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The sample traces as CSV and JSON Lines, read back by DuckDB and by Jackson: every row, null where a time was not seen. */
class TextExportTest {
    private static List<TraceEvent> rows(Path trace) throws IOException {
        List<TraceEvent> out = new ArrayList<>();
        try (TraceReader r = TraceReader.open(trace)) {
            while (r.nextBatch()) {
                for (int i = 0; i < r.batchRows(); i++) {
                    TraceEvent e = new TraceEvent();
                    r.read(i, e);
                    out.add(e);
                }
            }
        }
        return out;
    }

    @Test
    void jsonLinesHoldEveryRowWithItsTimesOrNull() throws Exception {
        for (Path trace : ParquetExportTest.samples()) {
            StringWriter w = new StringWriter();
            TextExport.Written written = TextExport.write(List.of(trace), w, TextExport.Format.JSONL, ExportListener.QUIET);
            List<TraceEvent> want = rows(trace);
            List<String> lines = w.toString().lines().toList();
            assertEquals(want.size(), written.rows());
            assertEquals(want.size(), lines.size(), trace + ": one line per row");
            ObjectMapper json = new ObjectMapper();
            for (int i = 0; i < want.size(); i += 97) {
                JsonNode row = json.readTree(lines.get(i));
                TraceEvent e = want.get(i);
                assertEquals(TextExport.COLUMNS.size(), row.size(), "every column, in every row");
                assertEquals(e.seq, row.get("seq").asLong());
                assertEquals(e.kind.name(), row.get("kind").asText());
                assertEquals(e.ioctl.name(), row.get("ioctl").asText());
                assertEquals(trace.getFileName().toString(), row.get("trace").asText());
                if (e.tWake == TraceEvent.UNKNOWN) {
                    assertTrue(row.get("t_wake").isNull(), trace + " row " + i);
                } else {
                    assertEquals(e.tWake, row.get("t_wake").asLong(), trace + " row " + i);
                }
            }
        }
    }

    @Test
    void csvFilesReadBackInDuckDbRowForRow(@TempDir Path dir) throws Exception {
        List<Path> samples = ParquetExportTest.samples();
        List<ExportedTrace> done = TextExport.export(samples, dir, TextExport.Format.CSV, ExportListener.QUIET);
        assertEquals(samples.size(), done.size());
        try (Connection c = DriverManager.getConnection("jdbc:duckdb:"); Statement s = c.createStatement()) {
            for (ExportedTrace t : done) {
                List<TraceEvent> want = rows(t.trace());
                long faults = want.stream().filter(e -> e.kind == dev.faultline.core.trace.EventKind.PAGEFAULT).count();
                long sumResolve = want.stream().mapToLong(e -> e.tResolveEnd == TraceEvent.UNKNOWN ? 0 : e.tResolveEnd).sum();
                try (ResultSet rs = s.executeQuery("SELECT count(*), count(*) FILTER (WHERE kind = 'PAGEFAULT'), "
                        + "coalesce(sum(t_resolve_end), 0) FROM read_csv('" + t.files().getFirst() + "', header = true)")) {
                    assertTrue(rs.next());
                    assertEquals(want.size(), rs.getLong(1), t.trace() + ": rows");
                    assertEquals(faults, rs.getLong(2), t.trace() + ": faults");
                    assertEquals(sumResolve, rs.getLong(3), t.trace() + ": t_resolve_end summed");
                }
            }
        }
        try (var s = Files.list(dir)) {
            assertTrue(s.allMatch(p -> p.getFileName().toString().endsWith(".csv")), "no partial file left");
        }
        IOException twice = assertThrows(IOException.class, () -> TextExport.export(List.of(samples.get(0), samples.get(0)), dir,
                TextExport.Format.CSV, ExportListener.QUIET));
        assertTrue(twice.getMessage().contains("different directories"), twice.getMessage());
    }
}
