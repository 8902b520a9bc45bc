package dev.faultline.core.trace;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A scratch trace is written and read like any other, and leaves no name in the temporary directory, open or closed. */
class ScratchFileTest {
    private static List<Path> names(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.sorted().toList();
        }
    }

    @Test
    void aScratchTraceIsWrittenAndReadWithoutANameInTheTemporaryDirectory(@TempDir Path dir) throws IOException {
        Path seen;
        try (ScratchFile f = ScratchFile.create(dir)) {
            seen = f.path();
            TraceFiles.write(f.path(), 70_000, Compression.ZSTD);
            try (TraceReader r = TraceReader.open(f.path())) {
                long rows = 0;
                while (r.nextBatch()) {
                    rows += r.batchRows();
                }
                assertEquals(70_000, rows);
                assertFalse(r.recovered());
            }
            assertEquals(List.of(), names(dir), "no name was made for it");
        }
        assertFalse(Files.exists(seen), "closed: gone");
        assertTrue(seen.toString().startsWith("/proc/self/fd/"), seen.toString());
    }

    @Test
    void aFinishedScratchTraceIsNamedInPlaceOfTheFileThereWithTheUsualPermissions(@TempDir Path dir) throws IOException {
        Path target = dir.resolve("r.arrow");
        Files.writeString(target, "older");
        try (ScratchFile f = ScratchFile.create(dir, 0666)) {
            TraceFiles.write(f.path(), 1_000, Compression.ZSTD);
            assertEquals(List.of(target), names(dir), "unnamed until linked");
            f.linkAs(target);
        }
        assertEquals(List.of(target), names(dir), "no hidden name left beside it");
        try (TraceReader r = TraceReader.open(target)) {
            assertTrue(r.nextBatch());
            assertFalse(r.recovered());
        }
        // 0666 less the umask, as for any new file: readable by others under the usual 022
        var perms = Files.getPosixFilePermissions(target);
        assertTrue(perms.contains(java.nio.file.attribute.PosixFilePermission.OWNER_WRITE), perms.toString());
        assertFalse(perms.contains(java.nio.file.attribute.PosixFilePermission.OTHERS_WRITE), perms.toString());
    }
}
