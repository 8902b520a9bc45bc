package dev.faultline.analysis;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Test helper: headless Chromium opening a report from disk, the way a user double-clicks
 * index.html. The page's own load check ({@code data-images}, {@code data-errors} on its body,
 * written by {@link Report}) says what loaded.
 */
public final class Chromium {
    private final Path browser;
    private final Path work;

    private Chromium(Path browser, Path work) {
        this.browser = browser;
        this.work = work;
    }

    /** Chromium with a profile under {@code work}, or null when none is installed (Debian: apt-get install chromium). */
    public static Chromium find(Path work) {
        for (String p : List.of("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")) {
            if (Files.isExecutable(Path.of(p))) {
                return new Chromium(Path.of(p), work);
            }
        }
        return null;
    }

    /** Why {@link #find} gave null, for a skipped test's message. */
    public static String missing() {
        return "no chromium here (Debian: apt-get install chromium; ./run-tests installs it as root)";
    }

    /** The page's DOM after load. */
    public String dom(Path page) throws Exception {
        return run("--dump-dom", page.toUri().toString());
    }

    /** Images that loaded and images on the page, from the page's load check; fails if the check did not run. */
    public static int[] images(String dom) {
        Matcher m = Pattern.compile("data-images=\"(\\d+)/(\\d+)\"").matcher(dom);
        assertTrue(m.find(), "the page ran its load check: " + dom.substring(0, Math.min(300, dom.length())));
        return new int[] {Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2))};
    }

    /** A screenshot of the page's top {@code height} pixels at 1200 wide, into {@code png}. */
    public void screenshot(Path page, Path png, int height) throws Exception {
        run("--screenshot=" + png, "--window-size=1200," + height, page.toUri().toString());
        assertTrue(Files.exists(png) && Files.size(png) > 50_000, "a screenshot of the page at " + png);
    }

    private String run(String... args) throws Exception {
        List<String> all = new ArrayList<>(List.of(browser.toString(), "--headless", "--no-sandbox", "--disable-gpu",
                "--allow-file-access-from-files", "--user-data-dir=" + work.resolve("chromium-profile")));
        all.addAll(List.of(args));
        Process p = new ProcessBuilder(all).directory(work.toFile()).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "chromium finished");
        return out;
    }
}
