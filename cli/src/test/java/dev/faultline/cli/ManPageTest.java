package dev.faultline.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Man pages come from the commands themselves: picocli's AsciiDoc, then asciidoctor's man(7) pages. */
class ManPageTest {
    @Test
    void everyCommandHasAManPageWithItsOptionsAndExitStatuses(@TempDir Path dir) throws Exception {
        CliRun gen = CliRun.of("gen-manpage", "--outdir", dir.toString());
        assertEquals(0, gen.exit(), gen.err());
        for (String c : List.of("faultline", "faultline-record", "faultline-replay", "faultline-analyze", "faultline-compare",
                "faultline-export", "faultline-inspect", "faultline-probe")) {
            Path adoc = dir.resolve(c + ".adoc");
            assertTrue(Files.isRegularFile(adoc), c + ": " + adoc);
        }
        String replay = Files.readString(dir.resolve("faultline-replay.adoc"));
        assertTrue(replay.contains("--backend") && replay.contains("Exit status"), "options and exit statuses in the page");

        assumeTrue(Files.isExecutable(Path.of("/usr/bin/asciidoctor")),
                "asciidoctor is not installed (apt-get install asciidoctor; ./run-tests does as root)");
        Process p = new ProcessBuilder("asciidoctor", "-b", "manpage", "-D", dir.resolve("man1").toString(),
                dir.resolve("faultline-replay.adoc").toString()).inheritIO().start();
        assertEquals(0, p.waitFor());
        String man = Files.readString(dir.resolve("man1/faultline-replay.1"));
        assertTrue(man.contains(".TH \"FAULTLINE\\-REPLAY\"") && man.contains("backend"), man.lines().limit(20).toList().toString());
    }
}
