package dev.faultline.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.faultline.core.probe.CapabilityProbe;
import dev.faultline.core.region.Backend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link GuestProbe} in a JVM of its own answers as {@code faultline probe --json} does, and refuses what is not its one option. */
class GuestProbeTest {
    @Test
    void itPrintsTheSameCellsAsProbeJson(@TempDir Path dir) throws Exception {
        Run guest = run(dir, GuestProbe.args(List.of(Backend.ANON, Backend.SHMEM)).toArray(String[]::new));
        assertEquals(0, guest.exit, guest.err);
        CliRun probe = CliRun.of("probe", "--json", "--backend", "anon,shmem");
        assertEquals(0, probe.exit(), probe.err());
        JsonNode a = new ObjectMapper().readTree(guest.out);
        JsonNode b = new ObjectMapper().readTree(probe.out());
        assertEquals(CapabilityProbe.kernelRelease(), a.path("kernel").asText());
        assertEquals(b.path("features_mask"), a.path("features_mask"));
        assertEquals(b.path("cells").size(), a.path("cells").size(), guest.out);
        assertTrue(a.path("cells").size() > 0, guest.out);
        for (int i = 0; i < a.path("cells").size(); i++) {
            JsonNode x = a.path("cells").get(i);
            JsonNode y = b.path("cells").get(i);
            List<String> keys = new ArrayList<>();
            x.fieldNames().forEachRemaining(keys::add);
            for (String k : List.of("backend", "mode", "ioctl", "supported")) {
                assertEquals(y.path(k), x.path(k), "cell " + i + " " + k + " (" + keys + ")");
            }
        }
    }

    @Test
    void anArgumentThatIsNotTheBackendsIsAUsageError(@TempDir Path dir) throws Exception {
        Run bad = run(dir, "backend=anon,floppy");
        assertEquals(2, bad.exit, bad.err);
        assertEquals(1, bad.err.strip().lines().count(), bad.err);
        assertTrue(bad.err.startsWith("faultline probe: backend: "), bad.err);
        Run none = run(dir);
        assertEquals(2, none.exit, none.err);
    }

    private record Run(int exit, String out, String err) {
    }

    private static Run run(Path dir, String... args) throws Exception {
        Path out = dir.resolve("out.txt");
        Path err = dir.resolve("err.txt");
        Process p = new ProcessBuilder(KernelSession.javaCommand(GuestProbe.class, List.of(args), null, List.of()))
                .directory(dir.toFile()).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "GuestProbe did not end within 120 s");
        return new Run(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8));
    }
}
