package dev.faultline.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The command line's edges: usage errors in a line, --ring of nothing, -o onto a directory or into one not yet made. */
class CliEdgesTest {
    private static final String TRACE = Path.of("../traces/zipf-shmem-copy.arrow").toString();

    @Test
    void aUsageErrorSaysItsLineAndWhereTheHelpIsNotTheWholeHelp() {
        CliRun run = CliRun.of("replay", TRACE, "--bogus");
        assertEquals(2, run.exit());
        java.util.List<String> lines = run.err().strip().lines().toList();
        assertEquals("faultline replay: Unknown option: '--bogus'", lines.getFirst(), run.err());
        assertEquals("see 'faultline replay --help'", lines.getLast(), run.err());
        assertTrue(lines.size() <= 3, "the line, picocli's suggestion at most, and where the help is: " + run.err());
        CliRun typo = CliRun.of("analyse", TRACE);
        assertEquals(2, typo.exit());
        assertTrue(typo.err().contains("Did you mean") && typo.err().contains("analyze"), "picocli's suggestion: " + typo.err());
        assertFalse(typo.err().contains("Usage:"), typo.err());
    }

    @Test
    void aRingOfNoRowsIsRefusedRatherThanDroppingEveryRow() {
        CliRun record = CliRun.of("record", "--ring", "0", "--pages", "100");
        assertEquals(2, record.exit());
        assertTrue(record.err().startsWith("faultline record: --ring must be at least 1 row, not 0"), record.err());
        CliRun replay = CliRun.of("replay", TRACE, "--ring", "0");
        assertEquals(2, replay.exit());
        assertTrue(replay.err().startsWith("faultline replay: --ring must be at least 1 row, not 0"), replay.err());
    }

    @Test
    void anOutputThatIsADirectoryIsRefusedAndAMissingDirectoryIsMade(@TempDir Path dir) throws Exception {
        Files.writeString(Files.createDirectories(dir.resolve("full")).resolve("keep.txt"), "mine");
        CliRun replay = CliRun.of("replay", TRACE, "-o", dir.resolve("full").toString());
        assertEquals(1, replay.exit());
        assertTrue(replay.err().strip().endsWith("it is a directory; give a file name (e.g. " + dir.resolve("full/trace.arrow") + ")"),
                replay.err());
        CliRun record = CliRun.of("record", "--pages", "100", "-o", dir.resolve("full").toString());
        assertEquals(1, record.exit());
        assertTrue(record.err().contains("it is a directory") && !record.err().contains("warming up"), "refused before the warm-up: "
                + record.err());
        assertTrue(Files.isDirectory(dir.resolve("full")) && Files.exists(dir.resolve("full/keep.txt")), "the directory is left as it was");
        assertFalse(Files.exists(dir.resolve("full.old")));

        Path nested = dir.resolve("a/b/r.arrow");
        CliRun made = CliRun.of("replay", TRACE, "--runs", "1", "--warmup", "0", "-o", nested.toString());
        assertEquals(0, made.exit(), made.err());
        assertTrue(Files.isRegularFile(nested), "replay made the directories its -o needs");
    }

    @Test
    void anOutputThatIsADeviceOrTheInputIsRefusedAndLeftAsItWas(@TempDir Path dir) throws Exception {
        // -o /dev/null once moved the device aside as /dev/null.old and wrote a file in its place
        CliRun devNull = CliRun.of("record", "--pages", "10", "-o", "/dev/null");
        assertEquals(1, devNull.exit(), devNull.err());
        assertTrue(devNull.err().contains("cannot write /dev/null: it is a device, pipe or socket, not a file"), devNull.err());
        assertTrue(Files.readAttributes(Path.of("/dev/null"), java.nio.file.attribute.BasicFileAttributes.class).isOther(),
                "/dev/null is still the device");
        assertFalse(Files.exists(Path.of("/dev/null.old")));

        Path trace = Files.copy(Path.of(TRACE), dir.resolve("t.arrow"));
        byte[] before = Files.readAllBytes(trace);
        CliRun self = CliRun.of("replay", trace.toString(), "--runs", "1", "-o", dir.resolve(".").resolve("t.arrow").toString());
        assertEquals(1, self.exit(), self.err());
        assertTrue(self.err().contains("the file being read; give another -o"), self.err());
        assertTrue(java.util.Arrays.equals(before, Files.readAllBytes(trace)), "the trace is untouched");
        assertFalse(Files.exists(dir.resolve("t.arrow.old")));

        // a failed export into a new directory leaves no directory behind
        Files.writeString(dir.resolve("x.arrow"), "hello");
        CliRun export = CliRun.of("export", dir.resolve("x.arrow").toString(), "-o", dir.resolve("out").toString());
        assertEquals(1, export.exit(), export.err());
        assertFalse(Files.exists(dir.resolve("out")), "no empty export directory");
    }

    @Test
    void aSecondReplayToTheSameOutputIsRefusedWhileTheFirstWritesIt(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("r.arrow");
        CliRun.Running first = CliRun.start("replay", TRACE, "--runs", "40", "-o", out.toString());
        Path lock = dir.resolve(".r.arrow.lock");
        long deadline = System.currentTimeMillis() + 20_000;
        while (!Files.exists(lock) && System.currentTimeMillis() < deadline) {
            Thread.sleep(10);
        }
        assertTrue(Files.exists(lock), "the first replay claimed its output");
        CliRun second = CliRun.of("replay", TRACE, "--runs", "1", "-o", out.toString());
        assertEquals(1, second.exit());
        assertEquals("faultline replay: another faultline (pid " + ProcessHandle.current().pid() + ") is writing " + out
                + ": wait for it to finish or give another -o", second.err().strip());
        CliRun done = first.join(120_000);
        assertEquals(0, done.exit(), done.err());
        assertTrue(Files.isRegularFile(out) && !Files.exists(lock), "the first replay's results, and its claim released");
        try (var r = dev.faultline.core.trace.TraceReader.open(out)) {
            assertFalse(r.recovered(), "complete, not interleaved with another writer");
        }
    }

    @Test
    void aFullDiskStopsTheRecordingAtOnceNamingTheFile(@TempDir Path dir) throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue("root".equals(System.getProperty("user.name")),
                "mounting a small tmpfs to fill needs root");
        Path small = Files.createDirectories(dir.resolve("small"));
        Process mount = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", small.toString()).inheritIO().start();
        org.junit.jupiter.api.Assumptions.assumeTrue(mount.waitFor() == 0, "mount -t tmpfs failed here");
        try {
            Path out = small.resolve("t.arrow");
            CliRun run = CliRun.of("record", "--pages", "200000", "--warmup", "0", "-o", out.toString());
            assertEquals(1, run.exit(), run.err());
            String last = run.err().strip().lines().reduce((a, b) -> b).orElse("");
            assertTrue(last.startsWith("faultline record: cannot write " + out) && last.contains("No space left on device"), run.err());
            assertFalse(run.err().contains("100%"), "the touches stopped when the writer failed, not at their end: " + run.err());
        } finally {
            new ProcessBuilder("umount", small.toString()).inheritIO().start().waitFor();
        }
    }

    @Test
    void bashCompletionIsGeneratedByPicocliForEveryCommand() {
        CliRun run = CliRun.of("generate-completion");
        assertEquals(0, run.exit(), run.err());
        assertTrue(run.out().contains("complete -F _complete_faultline") , run.out().lines().limit(5).toList().toString());
        for (String c : java.util.List.of("probe", "record", "replay", "analyze", "compare", "export", "inspect", "demo")) {
            assertTrue(run.out().contains(c), "completes " + c);
        }
        assertTrue(run.out().contains("--format"), "and options (export's --format)");
    }

    @Test
    void everyCommandThatPrintsAResultPrintsItAsJsonWithJson(@TempDir Path dir) throws Exception {
        var json = new com.fasterxml.jackson.databind.ObjectMapper();
        CliRun inspect = CliRun.of("inspect", TRACE, "--json");
        assertEquals(0, inspect.exit(), inspect.err());
        var i = json.readTree(inspect.out());
        assertEquals(2545, i.get("rows").asInt());
        assertEquals(2545, i.get("kinds").get("PAGEFAULT").asInt());
        assertTrue(i.get("complete").asBoolean() && i.get("latency").get("p50_ns").asLong() > 0, inspect.out());
        CliRun analyze = CliRun.of("analyze", TRACE, "--json", "-o", dir.resolve("a").toString());
        assertEquals(0, analyze.exit(), analyze.err());
        assertEquals(TRACE, json.readTree(analyze.out()).get("files").get(0).get("file").asText());
        CliRun compare = CliRun.of("compare", TRACE, TRACE, "--json", "-o", dir.resolve("c").toString());
        assertEquals(0, compare.exit(), compare.err());
        assertEquals("no regression", json.readTree(compare.out()).get("outcome").asText(), compare.out());
    }

    @Test
    void aDashReadsTheTraceFromStandardInput(@TempDir Path dir) throws Exception {
        java.io.InputStream stdin = System.in;
        try {
            System.setIn(Files.newInputStream(Path.of(TRACE)));
            CliRun inspect = CliRun.of("inspect", "-", "--json");
            assertEquals(0, inspect.exit(), inspect.err());
            assertEquals(2545, new com.fasterxml.jackson.databind.ObjectMapper().readTree(inspect.out()).get("rows").asInt());
            System.setIn(Files.newInputStream(Path.of(TRACE)));
            CliRun analyze = CliRun.of("analyze", "-", "-o", dir.resolve("r").toString());
            assertEquals(0, analyze.exit(), analyze.err());
            assertTrue(analyze.out().startsWith("stdin: 2,545 rows"), analyze.out());
            System.setIn(new java.io.ByteArrayInputStream("not a trace".getBytes()));
            CliRun bad = CliRun.of("inspect", "-");
            assertEquals(1, bad.exit());
            assertTrue(bad.err().contains("is not an Arrow IPC file"), bad.err());
        } finally {
            System.setIn(stdin);
        }
    }
}
