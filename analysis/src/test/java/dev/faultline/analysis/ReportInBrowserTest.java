package dev.faultline.analysis;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The report in a real browser: headless Chromium loads it from disk, every image loads, no error, and a screenshot. */
class ReportInBrowserTest {
    static Path chromium() {
        for (String p : List.of("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")) {
            if (Files.isExecutable(Path.of(p))) {
                return Path.of(p);
            }
        }
        return null;
    }

    static String run(Path dir, String... args) throws Exception {
        Process p = new ProcessBuilder(args).directory(dir.toFile()).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "chromium finished");
        return out;
    }

    @Test
    void opensFromDiskWithEveryImageAndNoError(@TempDir Path dir) throws Exception {
        Path browser = chromium();
        assumeTrue(browser != null, "no chromium here (Debian: apt-get install chromium; ./run-tests installs it as root)");
        Path trace = dir.resolve("t.arrow");
        SyntheticTrace.write(trace, 20_000, 0, 20_000, 1, 3);
        Path out = dir.resolve("report");
        Report.write(List.of(Analyzer.analyze(trace, By.NONE)), out, "faultline analyze t.arrow -o report");
        String url = out.resolve("index.html").toUri().toString();
        List<String> common = List.of(browser.toString(), "--headless", "--no-sandbox", "--disable-gpu", "--allow-file-access-from-files",
                "--user-data-dir=" + dir.resolve("profile"));

        String dom = run(dir, concat(common, "--dump-dom", url));
        Matcher images = Pattern.compile("data-images=\"(\\d+)/(\\d+)\"").matcher(dom);
        assertTrue(images.find(), "the page ran its load check: " + dom.substring(0, Math.min(300, dom.length())));
        assertEquals(images.group(2), images.group(1), "every image loaded");
        assertTrue(Integer.parseInt(images.group(2)) >= 8, "the charts are there: " + images.group(2));
        assertTrue(dom.contains("data-errors=\"0\""), "no error on the page");

        Path shot = dir.resolve("report.png");
        run(dir, concat(common, "--screenshot=" + shot, "--window-size=1200,3000", url));
        assertTrue(Files.exists(shot) && Files.size(shot) > 50_000, "a screenshot of the page");
        Path keep = Path.of("target", "report-screenshot.png"); // kept for a human to look at
        Files.copy(shot, keep, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }

    private static String[] concat(List<String> common, String... more) {
        List<String> all = new java.util.ArrayList<>(common);
        all.addAll(List.of(more));
        return all.toArray(String[]::new);
    }
}
