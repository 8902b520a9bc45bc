package dev.faultline.core.trace;

import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.ipc.ArrowFileReader;
import org.apache.arrow.vector.ipc.message.ArrowBlock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Damage is refused or marked, never read as data: one byte flipped in each batch in turn (every
 * batch carries a CRC32C the reader checks), a damaged footer (every intact batch recovered), and
 * metadata that cannot be a trace (the reason, not a leak report).
 */
class DamagedTraceTest {
    private static final int ROWS = 200_000; // four batches

    private static List<ArrowBlock> blocks(Path p) throws IOException {
        try (RootAllocator a = new RootAllocator(); FileChannel ch = FileChannel.open(p, StandardOpenOption.READ);
             ArrowFileReader r = new ArrowFileReader(ch, a)) {
            return List.copyOf(r.getRecordBlocks());
        }
    }

    /** Reads every row; returns the count. */
    private static long readAll(TraceReader r) throws IOException {
        long n = 0;
        TraceEvent e = new TraceEvent();
        while (r.nextBatch()) {
            for (int i = 0; i < r.batchRows(); i++) {
                r.read(i, e);
                n++;
            }
        }
        return n;
    }

    private static Path flip(Path from, Path to, long at) throws IOException {
        byte[] b = Files.readAllBytes(from);
        b[(int) at] ^= 0x5a;
        return Files.write(to, b);
    }

    @Test
    void aByteFlippedInAnyBatchIsRefusedNamingTheBatch(@TempDir Path dir) throws IOException {
        Path good = dir.resolve("good.arrow");
        TraceFiles.write(good, ROWS, Compression.ZSTD);
        List<ArrowBlock> blocks = blocks(good);
        assertEquals(4, blocks.size());
        try (TraceReader r = TraceReader.open(good)) {
            assertEquals(ROWS, readAll(r), "the intact file reads whole");
        }
        for (int i = 0; i < blocks.size(); i++) {
            ArrowBlock b = blocks.get(i);
            for (long at : new long[] {b.getOffset() + b.getMetadataLength() + b.getBodyLength() / 2,
                b.getOffset() + b.getMetadataLength() + b.getBodyLength() - 1, b.getOffset() + 9}) {
                Path bad = flip(good, dir.resolve("bad-" + i + "-" + at + ".arrow"), at);
                TraceFormatException e = assertThrows(TraceFormatException.class, () -> {
                    try (TraceReader r = TraceReader.open(bad)) {
                        readAll(r);
                    }
                }, "batch " + (i + 1) + ", byte " + at);
                assertTrue(e.getMessage().contains(bad.toString()) && e.getMessage().contains("batch " + (i + 1) + " of 4 is damaged"),
                        e.getMessage());
                assertFalse(e.getMessage().contains("\n"), e.getMessage());
                int index = i;
                TraceFormatException random = assertThrows(TraceFormatException.class, () -> {
                    try (TraceReader r = TraceReader.open(bad)) {
                        r.loadBatch(index);
                    }
                });
                assertTrue(random.getMessage().contains("batch " + (i + 1)), random.getMessage());
            }
        }
    }

    @Test
    void aDamagedFooterRecoversEveryIntactBatch(@TempDir Path dir) throws IOException {
        Path good = dir.resolve("good.arrow");
        TraceFiles.write(good, ROWS, Compression.ZSTD);
        List<ArrowBlock> blocks = blocks(good);
        ArrowBlock last = blocks.getLast();
        long footerStart = last.getOffset() + last.getMetadataLength() + last.getBodyLength();
        long size = Files.size(good);
        int recovered = 0;
        for (long at : new long[] {footerStart + 8, (footerStart + size) / 2, size - 11}) {
            byte[] b = Files.readAllBytes(good);
            for (int k = 0; k < 4 && at + k < size - 10; k++) {
                b[(int) (at + k)] = 0; // a run of zeroes, as a torn write leaves
            }
            Path bad = Files.write(dir.resolve("footer-" + at + ".arrow"), b);
            try (TraceReader r = TraceReader.open(bad)) {
                long rows = readAll(r);
                if (r.recovered()) {
                    assertEquals(ROWS, rows, "every batch recovered after footer damage at " + at + ": " + r.recoveryNote());
                    assertTrue(r.recoveryNote().contains("footer"), r.recoveryNote());
                    recovered++;
                } else {
                    assertEquals(ROWS, rows, "damage at " + at + " the footer's reader did not need");
                }
            } catch (TraceFormatException e) {
                assertTrue(e.getMessage().contains("footer"), "refused for its footer: " + e.getMessage());
            }
        }
        assertTrue(recovered >= 2, "the footer's damage was recovered from by reading the batches in order: " + recovered + " of 3");
    }

    @Test
    void metadataThatCannotBeATraceIsRefusedForWhatItIsNotForALeak(@TempDir Path dir) throws IOException {
        Path good = dir.resolve("good.arrow");
        TraceFiles.write(good, 1000, Compression.ZSTD);
        byte[] b = Files.readAllBytes(good);
        String text = new String(b, StandardCharsets.ISO_8859_1);
        Path regions = Files.write(dir.resolve("regions.arrow"), text.replace("[{\"id\":0", "#{\"id\":0").getBytes(StandardCharsets.ISO_8859_1));
        TraceFormatException e = assertThrows(TraceFormatException.class, () -> TraceReader.open(regions).close());
        assertTrue(e.getMessage().startsWith(regions + " has unreadable regions metadata"), e.getMessage());
        Path format = Files.write(dir.resolve("format.arrow"), text.replace("trace/1", "trace/9").getBytes(StandardCharsets.ISO_8859_1));
        TraceFormatException f = assertThrows(TraceFormatException.class, () -> TraceReader.open(format).close());
        assertTrue(f.getMessage().startsWith(format + " is trace format version 9"), f.getMessage());
        assertFalse(f.getMessage().contains("leaked"), f.getMessage());
    }
}
