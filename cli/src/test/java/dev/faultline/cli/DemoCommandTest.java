package dev.faultline.cli;

import dev.faultline.analysis.Chromium;
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
        // the findings name the comparison they come from and link to its chart
        assertTrue(html.contains("anon vs shmem, the same trace interleaved") && html.contains("href=\"#comparison-percentiles\""), html);
        assertTrue(html.contains("COPY vs CONTINUE, two of the recordings"), "COPY vs CONTINUE named");
        if (Files.exists(out.resolve("data/replay-hugetlb2m.arrow"))) {
            assertTrue(html.contains("4K vs 2M pages, the same trace") && html.contains("href=\"#comparison-boxes\""), "4K vs 2M named");
        }
        try (var files = Files.list(out)) {
            for (Path svg : files.filter(f -> f.toString().endsWith(".svg")).toList()) {
                assertTrue(Files.size(svg) < 1_000_000, svg + " is " + Files.size(svg) + " bytes: over 1 MB");
            }
        }
        assertTrue(Files.readString(out.resolve("compare/index.html")).contains("regression"), "20 µs more per fault is a regression");
        assertTrue(demo.err().contains("demo: probing"), demo.err());

        CliRun inspect = CliRun.of("inspect", out.resolve("data/replay-shmem.arrow").toString());
        assertEquals(0, inspect.exit(), inspect.err());
        try (var left = Files.list(dir)) {
            assertEquals(1, left.count(), "no temporary directory left beside the report");
        }
        checkInChromium(dir, out);
    }

    /**
     * The demo report as a user opens it: from disk in Chromium, every image loaded, no error, the
     * comparison of every file before any file's own section, naming every file and its backend.
     * A screenshot is kept at cli/target/demo-report-screenshot.png.
     */
    private static void checkInChromium(Path dir, Path out) throws Exception {
        Chromium browser = Chromium.find(dir);
        if (browser == null) {
            System.err.println("DemoCommandTest: the demo report was not opened in a browser: " + Chromium.missing());
            return;
        }
        String dom = browser.dom(out.resolve("index.html"));
        java.util.regex.Matcher load = java.util.regex.Pattern.compile("data-load-ms=\"(\\d+)\"").matcher(dom);
        assertTrue(load.find(), "the page timed its load");
        double seconds = Integer.parseInt(load.group(1)) / 1e3;
        assertTrue(seconds < 2, "the page opens from disk in under 2 s, not " + seconds);
        int[] images = Chromium.images(dom);
        assertEquals(images[1], images[0], "every image loaded");
        assertTrue(dom.contains("data-errors=\"0\""), "no error on the page");
        int comparison = dom.indexOf("id=\"comparison\"");
        assertTrue(comparison > 0 && comparison < dom.indexOf("id=\"file-1\""), "the comparison comes before the files' sections");
        String section = dom.substring(comparison, dom.indexOf("id=\"contents\""));
        for (String file : new String[] {"random-shmem-copy", "restore-shmem-copy", "zipf-anon-writeprotect", "sequential-shmem-continue",
                "replay-shmem", "replay-anon", "replay-shmem-slower"}) {
            assertTrue(section.contains(">" + file + "<"), file + " in the comparison");
        }
        assertTrue(section.contains("COPY 4K anon") && section.contains("COPY 4K shmem") && section.contains("WRITEPROTECT 4K anon"),
                "every file's backend in the comparison");
        Path shot = Path.of("target", "demo-report-screenshot.png").toAbsolutePath();
        browser.screenshot(out.resolve("index.html"), shot, 2400);
        System.err.printf("DemoCommandTest: the demo report loaded in Chromium in %.2f s (%d images, time from navigation to load); screenshot %s%n", seconds, images[1], shot);
    }
}
