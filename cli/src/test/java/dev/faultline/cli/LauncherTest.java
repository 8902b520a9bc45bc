package dev.faultline.cli;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The launcher's JDK search (scripts/jdk.sh): a new enough JDK is found, a too-old one is refused in one line. */
class LauncherTest {
    static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

    static String[] findJdk(String javaHome, String dirs) throws Exception {
        ProcessBuilder pb = new ProcessBuilder("bash", "-c",
                ". scripts/jdk.sh && faultline_find_jdk && echo \"$FAULTLINE_JAVA_HOME\"").directory(ROOT.toFile());
        pb.environment().put("JAVA_HOME", javaHome);
        pb.environment().put("FAULTLINE_JDK_DIRS", dirs);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        return new String[] {Integer.toString(p.exitValue()), out, err};
    }

    @Test
    void findsTheRunningJdkFromJavaHome() throws Exception {
        String home = System.getProperty("java.home");
        String[] r = findJdk(home, "/nonexistent");
        assertEquals("0", r[0], r[2]);
        assertEquals(home, r[1]);
    }

    @Test
    void aJdkOlderThan22GetsOneLineSayingWhatToInstall() throws Exception {
        Path old = Path.of("/usr/lib/jvm/java-17-openjdk-amd64");
        assumeTrue(Files.isExecutable(old.resolve("bin/javac")), "no JDK 17 at " + old + " to stand for a too-old JDK");
        String[] r = findJdk(old.toString(), old.toString());
        assertEquals("1", r[0]);
        assertEquals(1, r[2].lines().count(), r[2]);
        assertTrue(r[2].startsWith("faultline: needs a JDK 22 or newer (found: " + old + "=17)"), r[2]);
    }
}
