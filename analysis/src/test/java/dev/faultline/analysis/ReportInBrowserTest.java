package dev.faultline.analysis;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The report in a real browser: headless Chromium loads it from disk, every image loads, no error, and a screenshot. */
class ReportInBrowserTest {

    @Test
    void opensFromDiskWithEveryImageAndNoError(@TempDir Path dir) throws Exception {
        Chromium browser = Chromium.find(dir);
        assumeTrue(browser != null, Chromium.missing());
        Path trace = dir.resolve("t.arrow");
        SyntheticTrace.write(trace, 20_000, 0, 20_000, 1, 3);
        Path out = dir.resolve("report");
        Report.write(List.of(Analyzer.analyze(trace, By.NONE)), out, "faultline analyze t.arrow -o report");

        String dom = browser.dom(out.resolve("index.html"));
        int[] images = Chromium.images(dom);
        assertEquals(images[1], images[0], "every image loaded");
        assertTrue(images[1] >= 8, "the charts are there: " + images[1]);
        assertTrue(dom.contains("data-errors=\"0\""), "no error on the page");

        Path shot = dir.resolve("report.png");
        browser.screenshot(out.resolve("index.html"), shot, 3000);
        Files.copy(shot, Path.of("target", "report-screenshot.png"), java.nio.file.StandardCopyOption.REPLACE_EXISTING); // for a human
    }
}
