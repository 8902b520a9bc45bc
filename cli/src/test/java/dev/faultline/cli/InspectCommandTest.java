package dev.faultline.cli;

import dev.faultline.core.region.Backend;
import dev.faultline.core.trace.Compression;
import dev.faultline.core.trace.EventKind;
import dev.faultline.core.trace.RegionInfo;
import dev.faultline.core.trace.TraceEvent;
import dev.faultline.core.trace.TraceHeader;
import dev.faultline.core.trace.TraceWriter;
import dev.faultline.core.uffd.ResolveIoctl;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code faultline inspect} on real trace files: complete, cut off, foreign and missing. */
class InspectCommandTest {

    @Test
    void inspectsEverySampleTrace() throws IOException {
        Path traces = Path.of(System.getProperty("faultline.root", "..")).resolve("traces");
        List<Path> samples;
        try (var files = Files.list(traces)) {
            samples = files.filter(p -> p.toString().endsWith(".arrow")).sorted().toList();
        }
        assertTrue(samples.size() >= 6, "samples in " + traces);
        for (Path sample : samples) {
            CliRun r = CliRun.of("inspect", sample.toString());
            assertEquals(0, r.exit(), sample + ": " + r.err());
            assertTrue(r.out().contains(", complete)"), sample + ": " + r.out());
            assertTrue(r.out().contains("rows by kind     PAGEFAULT "), sample + ": " + r.out());
        }
    }

    static final int ROWS = 100_000;

    /** A shmem trace: ROWS faults resolved by COPY, then 10 RESOLVE rows by ZEROPAGE. */
    static Path write(Path dir) throws IOException {
        Path p = dir.resolve("t.arrow");
        TraceHeader h = TraceHeader.now("in-process", "test", 0x1ffffL,
                List.of(RegionInfo.of(0, "ram", Backend.SHMEM, 1L << 30, 1, 0x7f0000000000L)));
        TraceEvent e = new TraceEvent();
        try (TraceWriter w = TraceWriter.create(p, h, Compression.ZSTD)) {
            for (int n = 0; n < ROWS + 10; n++) {
                e.clear();
                e.seq = n;
                e.kind = n < ROWS ? EventKind.PAGEFAULT : EventKind.RESOLVE;
                e.ioctl = n < ROWS ? ResolveIoctl.COPY : ResolveIoctl.ZEROPAGE;
                e.offset = n * 4096L;
                e.flags = n % 2;
                e.tid = 42;
                e.resolveLength = 4096;
                e.result = n == 1 ? -17 : 0;
                e.tFault = 1_000_000L * n;
                e.tRead = e.tFault + 1_500;
                e.tResolveEnd = e.tRead + 3_000;
                e.tWake = e.tResolveEnd + 700;
                w.append(e);
            }
        }
        return p;
    }

    @Test
    void aThreadWokenBeforeTheHandlersIoctlReturnedIsShownAsSuchNotAsANegativeWake() {
        // row 4 of this sample: the COPY took 123 us, and the faulting thread ran 99.5 us before it returned
        CliRun run = CliRun.of("inspect", Path.of("../traces/random-anon-copy.arrow").toString(), "--rows", "6");
        assertEquals(0, run.exit(), run.err());
        String row4 = run.out().lines().filter(l -> l.strip().startsWith("4 ")).findFirst().orElseThrow();
        assertTrue(row4.endsWith("in ioctl*") && !run.out().contains("-99"), run.out());
        assertTrue(run.out().contains("* t_wake before t_resolve_end: the ioctl wakes the faulting thread before it returns"), run.out());
    }

    @Test
    void printsMetadataRegionsCountsAndFirstRows(@TempDir Path dir) throws IOException {
        CliRun run = CliRun.of("inspect", write(dir).toString(), "--rows", "3");
        assertEquals(0, run.exit(), run.err());
        String out = run.out();
        assertTrue(out.contains((ROWS + 10) + " rows, complete"), out);
        assertTrue(out.contains("rows by kind     PAGEFAULT " + ROWS + "  RESOLVE 10"), out);
        assertTrue(out.contains("rows by ioctl    COPY " + ROWS + "  ZEROPAGE 10"), out);
        assertTrue(out.contains("rows by backend  shmem 4K " + (ROWS + 10)), out);
        String footer = out.lines().filter(l -> l.startsWith("footer ")).findFirst().orElseThrow();
        assertTrue(footer.contains("events=" + (ROWS + 10)) && footer.matches(".*batch_crc32c=[0-9a-f]+,[0-9a-f]+( .*)?"),
                "the row count and a checksum per batch: " + footer);
        assertTrue(out.lines().anyMatch(l -> l.matches("^  0 +ram +shmem +4K +1\\.00 GiB +MISSING +0x7f0000000000$")), out);
        assertTrue(out.contains("first 3 rows"), out);
        assertTrue(out.lines().anyMatch(l -> l.matches("^  1 +PAGEFAULT .* WRITE .*EEXIST +1\\.50µs +3\\.00µs +700ns$")), out);
    }

    @Test
    void aCutOffFileIsReadToItsLastBatchAndSaysSo(@TempDir Path dir) throws IOException {
        Path p = write(dir);
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.WRITE)) {
            ch.truncate(ch.size() * 3 / 4);
        }
        CliRun run = CliRun.of("inspect", p.toString());
        assertEquals(0, run.exit(), run.err());
        assertTrue(run.out().contains("RECOVERED"), run.out());
        assertTrue(run.out().contains("recovery    "), run.out());
    }

    @Test
    void foreignAndMissingFilesFailWithOneLine(@TempDir Path dir) throws IOException {
        Path junk = dir.resolve("junk.arrow");
        Files.write(junk, new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
        CliRun run = CliRun.of("inspect", junk.toString());
        assertEquals(1, run.exit());
        assertEquals(1, run.err().lines().count(), run.err());
        assertTrue(run.err().startsWith("faultline inspect: " + junk), run.err());

        CliRun missing = CliRun.of("inspect", dir.resolve("nope.arrow").toString());
        assertEquals(1, missing.exit());
        assertEquals("faultline inspect: no such file: " + dir.resolve("nope.arrow"), missing.err().strip());
    }
}
