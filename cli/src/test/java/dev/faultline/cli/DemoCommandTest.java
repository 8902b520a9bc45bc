package dev.faultline.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code faultline demo} end to end, smaller: every stage leaves its file, and the report links them. */
class DemoCommandTest {

    @Test
    void recordsReplaysAnalyzesAndCompares(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("demo-report");
        CliRun demo = CliRun.of("demo", "--pages", "2000", "-o", out.toString());
        assertEquals(0, demo.exit(), demo.err());
        assertTrue(demo.out().startsWith("demo report: " + out.resolve("index.html")), demo.out());
        assertTrue(demo.out().contains("a 4K shmem fault resolved by UFFDIO_COPY takes"), demo.out());
        for (String f : new String[] {"random-shmem-copy.arrow", "restore-shmem-copy.arrow", "zipf-anon-writeprotect.arrow",
                "sequential-shmem-continue.arrow", "replay-shmem.arrow", "replay-anon.arrow", "replay-shmem-slower.arrow"}) {
            assertTrue(Files.size(out.resolve("data").resolve(f)) > 1000, f);
        }
        String html = Files.readString(out.resolve("index.html"));
        assertTrue(html.contains("<h2>Findings</h2>"), "findings on the page");
        assertTrue(html.contains("href=\"compare/index.html\""));
        assertTrue(Files.readString(out.resolve("compare/index.html")).contains("regression"), "20 µs more per fault is a regression");
        assertTrue(demo.err().contains("demo: probing"), demo.err());

        CliRun inspect = CliRun.of("inspect", out.resolve("data/replay-shmem.arrow").toString());
        assertEquals(0, inspect.exit(), inspect.err());
        try (var left = Files.list(dir)) {
            assertEquals(1, left.count(), "no temporary directory left beside the report");
        }
    }
}
