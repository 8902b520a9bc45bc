package dev.faultline.core.trace;

import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.IntVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ipc.ArrowFileWriter;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.Schema;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TraceFormatTest {

    @Test
    void regionsWritePageSizeAsDesignedAndStillReadTheOlderName() throws Exception {
        TraceHeader h = TraceHeader.now("in-process", "x", 0, List.of(RegionInfo.of(0, "r", dev.faultline.core.region.Backend.SHMEM, 8192, 1, 0)));
        String json = h.toMetadata().get(TraceHeader.KEY_REGIONS);
        assertTrue(json.contains("\"page_size\":4096"), json);
        Map<String, String> older = new java.util.HashMap<>(h.toMetadata());
        older.put(TraceHeader.KEY_REGIONS, json.replace("page_size", "pageSize")); // traces written before 2026-11-23
        assertEquals(4096, TraceHeader.fromMetadata("old.arrow", older).regions().getFirst().pageSize());
    }

    @TempDir
    Path dir;

    /** Reads every row back and checks it against the generator; returns the row count. */
    private static long verifyAll(TraceReader r) throws IOException {
        TraceEvent got = new TraceEvent();
        TraceEvent want = new TraceEvent();
        long n = 0;
        while (r.nextBatch()) {
            assertTrue(r.batchRows() <= TraceSchema.BATCH_ROWS);
            for (int i = 0; i < r.batchRows(); i++, n++) {
                r.read(i, got);
                TraceFiles.row(n, want);
                if (!got.equals(want)) {
                    assertEquals(want.toString() + " tFault=" + want.tFault + " tWake=" + want.tWake,
                            got.toString() + " tFault=" + got.tFault + " tWake=" + got.tWake, "row " + n);
                }
                String backend = TraceFiles.REGIONS.get(got.region).backend();
                assertEquals(backend, r.backend(i));
                assertEquals(TraceFiles.REGIONS.get(got.region).pageSize(), r.pageSize(i));
            }
        }
        return n;
    }

    @ParameterizedTest
    @EnumSource(Compression.class)
    void millionRowsRoundTripWithEveryColumn(Compression c) throws IOException {
        Path p = dir.resolve("t.arrow");
        long rows = 1_000_000;
        TraceFiles.write(p, rows, c);
        try (TraceReader r = TraceReader.open(p)) {
            assertFalse(r.recovered());
            assertNull(r.recoveryNote());
            assertEquals(Long.toString(rows), r.footer().get(TraceWriter.FOOTER_EVENTS));
            TraceHeader h = r.header();
            assertEquals(TraceFiles.REGIONS, h.regions());
            assertEquals(0x1ffffL, h.features());
            assertEquals("in-process", h.source());
            assertEquals("value", h.extra().get("test.key"));
            assertEquals(rows, verifyAll(r));
        }
        long bytes = Files.size(p);
        System.err.printf("trace size, %s: %d bytes for %d rows = %.1f bytes/event%n", c, bytes, rows, bytes / (double) rows);
    }

    @Test
    void zstdIsSmallerThanNone() throws IOException {
        Path z = dir.resolve("z.arrow");
        Path n = dir.resolve("n.arrow");
        TraceFiles.write(z, 100_000, Compression.ZSTD);
        TraceFiles.write(n, 100_000, Compression.NONE);
        assertTrue(Files.size(z) * 2 < Files.size(n), Files.size(z) + " vs " + Files.size(n));
    }

    @Test
    void emptyTraceHasHeaderAndNoRows() throws IOException {
        Path p = dir.resolve("empty.arrow");
        TraceFiles.write(p, 0, Compression.ZSTD);
        try (TraceReader r = TraceReader.open(p)) {
            assertFalse(r.nextBatch());
            assertEquals("0", r.footer().get("events"));
            assertEquals(3, r.header().regions().size());
        }
    }

    /** A writer that died: the file is cut at several points; every complete batch comes back. */
    @Test
    void recoversEveryCompleteBatchOfACutFile() throws IOException {
        Path full = dir.resolve("full.arrow");
        int batches = 5;
        TraceEvent e = new TraceEvent();
        long[] batchEnds = new long[batches];
        try (TraceWriter w = TraceWriter.create(full, TraceFiles.header(), Compression.ZSTD)) {
            long n = 0;
            for (int b = 0; b < batches; b++) {
                for (int i = 0; i < 1000; i++) {
                    w.append(TraceFiles.row(n++, e));
                }
                w.flush();
                batchEnds[b] = Files.size(full);
            }
        }
        long size = Files.size(full);
        byte[] bytes = Files.readAllBytes(full);
        // Cut inside each batch, exactly at each batch end, and just before the footer's end.
        for (int b = 0; b < batches; b++) {
            for (long cut : new long[] {batchEnds[b] - 7, batchEnds[b]}) {
                Path p = dir.resolve("cut-" + cut + ".arrow");
                Files.write(p, java.util.Arrays.copyOf(bytes, (int) cut));
                int expectedBatches = cut == batchEnds[b] ? b + 1 : b;
                try (TraceReader r = TraceReader.open(p)) {
                    assertTrue(r.recovered());
                    assertEquals(expectedBatches * 1000L, verifyAll(r), "cut at " + cut);
                    assertTrue(r.recoveryNote().contains(expectedBatches + " complete batches"), r.recoveryNote());
                }
            }
        }
        Path nearlyDone = dir.resolve("nearly.arrow");
        Files.write(nearlyDone, java.util.Arrays.copyOf(bytes, (int) size - 3));
        try (TraceReader r = TraceReader.open(nearlyDone)) {
            assertTrue(r.recovered());
            assertEquals(5000, verifyAll(r));
        }
    }

    @Test
    void flushedRowsSurviveAWriterThatNeverCloses() throws IOException {
        Path p = dir.resolve("open.arrow");
        TraceWriter w = TraceWriter.create(p, TraceFiles.header(), Compression.ZSTD);
        TraceEvent e = new TraceEvent();
        for (int n = 0; n < 2500; n++) {
            w.append(TraceFiles.row(n, e));
        }
        w.flush();
        w.append(TraceFiles.row(2500, e)); // appended, never flushed
        try (TraceReader r = TraceReader.open(p)) {
            assertTrue(r.recovered());
            assertEquals(2500, verifyAll(r));
        }
        w.close();
    }

    private static String refusal(Path p) {
        return assertThrows(TraceFormatException.class, () -> TraceReader.open(p).close()).getMessage();
    }

    @Test
    void refusesRandomBytesAndTruncatedHeaders() throws IOException {
        Path random = dir.resolve("random.arrow");
        byte[] noise = new byte[4096];
        new Random(1).nextBytes(noise);
        Files.write(random, noise);
        assertEquals(random + " is not an Arrow IPC file (no ARROW1 magic at its start)", refusal(random));

        Path tiny = dir.resolve("tiny.arrow");
        Files.write(tiny, new byte[] {'A', 'R'});
        assertEquals(tiny + " is not an Arrow IPC file (2 bytes)", refusal(tiny));

        Path full = dir.resolve("full.arrow");
        TraceFiles.write(full, 10, Compression.ZSTD);
        Path header = dir.resolve("header-cut.arrow");
        Files.write(header, java.util.Arrays.copyOf(Files.readAllBytes(full), 40));
        String m = refusal(header);
        assertTrue(m.startsWith(header + " is damaged before its first batch"), m);
        assertFalse(m.contains("\n"));
    }

    private void writeArrow(Path p, Map<String, String> metadata) throws IOException {
        Schema schema = new Schema(List.of(Field.nullable("x", new ArrowType.Int(32, true))), metadata);
        try (RootAllocator a = new RootAllocator(); VectorSchemaRoot root = VectorSchemaRoot.create(schema, a);
             FileChannel ch = FileChannel.open(p, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
             ArrowFileWriter w = new ArrowFileWriter(root, null, ch)) {
            w.start();
            ((IntVector) root.getVector("x")).setSafe(0, 1);
            root.setRowCount(1);
            w.writeBatch();
            w.end();
        }
    }

    @Test
    void refusesForeignArrowAndNewerFormats() throws IOException {
        Path foreign = dir.resolve("foreign.arrow");
        writeArrow(foreign, null);
        assertEquals(foreign + " is an Arrow file but not a Faultline trace (no faultline.format in its schema metadata)",
                refusal(foreign));

        Path newer = dir.resolve("newer.arrow");
        writeArrow(newer, Map.of("faultline.format", "trace/2"));
        assertTrue(refusal(newer).startsWith(newer + " is trace format version 2; this Faultline"));

        Path columns = dir.resolve("columns.arrow");
        writeArrow(columns, Map.of("faultline.format", "trace/1"));
        assertEquals(columns + " is not a trace/1 file: it has no 'seq' column", refusal(columns));
    }

    @Test
    void refusesRowsOutsideTheRegions() throws IOException {
        try (TraceWriter w = TraceWriter.create(dir.resolve("x.arrow"), TraceFiles.header(), Compression.NONE)) {
            TraceEvent e = new TraceEvent();
            e.region = 3;
            assertThrows(IllegalArgumentException.class, () -> w.append(e));
        }
    }

    @Test
    void missingFileNamesTheFile() {
        Path p = dir.resolve("absent.arrow");
        IOException e = assertThrows(IOException.class, () -> TraceReader.open(p));
        assertTrue(e.getMessage().contains(p.toString()), e.getMessage());
    }
}
