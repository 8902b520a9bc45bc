package dev.faultline.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.faultline.core.region.HugePages;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** {@code faultline replay} end to end: record, replay, inspect; refusals; Ctrl-C. */
class ReplayCommandTest {

    static Path recordTrace(Path dir, String pages) {
        Path t = dir.resolve("t.arrow");
        CliRun rec = CliRun.of("record", "--workload", "random", "--backend", "shmem", "--pages", pages, "--threads", "2",
                "-o", t.toString());
        assertEquals(0, rec.exit(), rec.err());
        return t;
    }

    @Test
    void recordReplayInspect(@TempDir Path dir) throws Exception {
        Path t = recordTrace(dir, "20000");
        Path r = dir.resolve("r.arrow");
        CliRun replay = CliRun.of("replay", t.toString(), "-o", r.toString(), "--runs", "2", "--warmup", "1", "--verify", "--json");
        assertEquals(0, replay.exit(), replay.err());
        JsonNode j = new ObjectMapper().readTree(replay.out());
        assertEquals(20000, j.get("recorded_faults").asLong());
        assertEquals(2, j.get("threads").asInt(), "one faulting thread per recorded thread");
        assertEquals(2, j.get("runs").size(), "two measured runs");
        assertTrue(j.get("warmup_runs").size() >= 1, "at least the one asked for");
        for (JsonNode run : j.get("runs")) {
            assertEquals(20000, run.get("faults").asLong());
            assertEquals("ok", run.get("verified").asText());
        }
        JsonNode g = j.get("groups").get(0);
        assertEquals("COPY", g.get("ioctl").asText());
        assertEquals(40000, g.get("faults").asLong(), "both measured runs");
        assertTrue(g.get("p50_ns").asLong() > 0);

        CliRun inspect = CliRun.of("inspect", r.toString());
        assertEquals(0, inspect.exit(), inspect.err());
        assertTrue(inspect.out().contains("rows by kind     PAGEFAULT 40000\n"), inspect.out());
        assertTrue(inspect.out().contains("source replay: faultline replay"), inspect.out());
        assertTrue(inspect.out().contains("rows by run      0: 20000  1: 20000\n"), inspect.out());

        CliRun table = CliRun.of("replay", t.toString(), "--no-results", "--backend", "anon");
        assertEquals(0, table.exit(), table.err());
        assertTrue(table.out().contains("COPY         4K         anon         20,000"), table.out());
        assertFalse(Files.exists(dir.resolve("t.replay.arrow")));
    }

    @Test
    void refusalsAreOneLineAndLeaveNothingBehind(@TempDir Path dir) throws Exception {
        Path t = recordTrace(dir, "200");
        Path r = dir.resolve("r.arrow");

        CliRun pace = CliRun.of("replay", t.toString(), "--pace", "slow");
        assertEquals(2, pace.exit());
        assertTrue(pace.err().contains("--pace takes full, recorded or a speed factor such as 2x or 0.5x, not 'slow'"), pace.err());
        CliRun delay = CliRun.of("replay", t.toString(), "--delay", "5");
        assertEquals(2, delay.exit());
        assertTrue(delay.err().contains("--delay: '5' is not a duration"), delay.err());

        CliRun move = CliRun.of("replay", t.toString(), "--resolve", "move", "-o", r.toString());
        assertEquals(1, move.exit());
        assertEquals(1, move.err().strip().lines().count(), move.err());
        assertTrue(move.err().startsWith("faultline replay: region 0 (random) on shmem cannot resolve MISSING faults with MOVE"), move.err());

        CliRun missing = CliRun.of("replay", dir.resolve("nope.arrow").toString());
        assertEquals(1, missing.exit());
        assertTrue(missing.err().startsWith("faultline replay: no such file"), missing.err());

        Path foreign = dir.resolve("foreign.arrow");
        Files.writeString(foreign, "not an arrow file at all\n".repeat(20));
        CliRun notArrow = CliRun.of("replay", foreign.toString(), "-o", r.toString());
        assertEquals(1, notArrow.exit());
        assertEquals(1, notArrow.err().strip().lines().count(), notArrow.err());

        byte[] whole = Files.readAllBytes(t);
        Path truncated = dir.resolve("truncated.arrow");
        Files.write(truncated, java.util.Arrays.copyOf(whole, 300));
        CliRun cut = CliRun.of("replay", truncated.toString(), "-o", r.toString());
        assertEquals(1, cut.exit(), cut.out());
        assertEquals(1, cut.err().strip().lines().count(), cut.err());

        try (var files = Files.list(dir)) {
            assertEquals(List.of("foreign.arrow", "t.arrow", "truncated.arrow"),
                    files.map(p -> p.getFileName().toString()).sorted().collect(Collectors.toList()), "no results of any kind");
        }
    }

    @Test
    void ctrlCOrSigkillStopsAReplayAndLeavesNoResultsFile(@TempDir Path dir) throws Exception {
        Path t = recordTrace(dir, "4000");
        List<Path> before = names(dir);
        for (String signal : new String[] {"INT", "KILL"}) {
            Path r = dir.resolve("r.arrow");
            String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            Process p = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED",
                    "--add-opens=java.base/java.nio=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow",
                    "-cp", System.getProperty("java.class.path"), Faultline.class.getName(),
                    "replay", t.toString(), "-o", r.toString(), "--delay", "1ms", "--warmup", "0", "--runs", "100").start();
            StringBuilder err = new StringBuilder();
            try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getErrorStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = in.readLine()) != null) {
                    err.append(line).append('\n');
                    if (line.contains("touches")) {
                        break; // a progress line: the replay is under way
                    }
                }
                assertTrue(err.toString().contains("touches"), "progress before the signal: " + err);
                assertTrue(writesAnUnnamedFileIn(p.pid(), dir), "results are written to an unnamed file beside -o meanwhile");
                assertEquals(0, new ProcessBuilder("kill", "-" + signal, Long.toString(p.pid())).start().waitFor());
                assertTrue(p.waitFor(20, TimeUnit.SECONDS), "the replay stops: no thread left hung");
                while ((line = in.readLine()) != null) {
                    err.append(line).append('\n');
                }
            }
            assertNotEquals(0, p.exitValue());
            if (signal.equals("INT")) {
                assertTrue(err.toString().contains("faultline replay: stopped during run 0; no results were written"), err.toString());
            }
            assertFalse(Files.exists(r), "no results file after SIG" + signal);
            List<Path> after = new java.util.ArrayList<>(names(dir));
            after.remove(dir.resolve(".r.arrow.lock")); // a SIGKILLed claim's lock file: the next claim takes it over
            assertEquals(before, after, "no half-written results file after SIG" + signal);
        }
    }

    private static List<Path> names(Path dir) throws java.io.IOException {
        try (var s = Files.list(dir)) {
            return s.sorted().toList();
        }
    }

    /** Whether process {@code pid} holds open an unnamed (O_TMPFILE) file in {@code dir}. */
    private static boolean writesAnUnnamedFileIn(long pid, Path dir) throws java.io.IOException {
        try (var fds = Files.list(Path.of("/proc/" + pid + "/fd"))) {
            return fds.anyMatch(fd -> {
                try {
                    String target = Files.readSymbolicLink(fd).toString();
                    return target.startsWith(dir.toRealPath() + "/#") && target.endsWith("(deleted)");
                } catch (java.io.IOException e) {
                    return false;
                }
            });
        }
    }

    /** The earliest t_fault of each measured run in a results file. */
    private static long[] runStarts(Path results, int runs) throws Exception {
        long[] first = new long[runs];
        java.util.Arrays.fill(first, Long.MAX_VALUE);
        dev.faultline.core.trace.TraceEvent e = new dev.faultline.core.trace.TraceEvent();
        try (dev.faultline.core.trace.TraceReader r = dev.faultline.core.trace.TraceReader.open(results)) {
            assertEquals(Integer.toString(runs), r.header().extra().get("runs"));
            while (r.nextBatch()) {
                for (int i = 0; i < r.batchRows(); i++) {
                    r.read(i, e);
                    if (e.tFault > 0) {
                        first[e.run] = Math.min(first[e.run], e.tFault);
                    }
                }
            }
        }
        return first;
    }

    @Test
    void aListOfBackendsReplaysEachInterleavedIntoAFileOfItsOwn(@TempDir Path dir) throws Exception {
        Path t = recordTrace(dir, "3000");
        Path r = dir.resolve("r.arrow");
        CliRun replay = CliRun.of("replay", t.toString(), "--backend", "shmem,anon", "--runs", "2", "--warmup", "0", "-o",
                r.toString(), "--json");
        assertEquals(0, replay.exit(), replay.err());
        assertTrue(replay.err().startsWith("faultline replay: 2 variants (shmem, anon), 2 interleaved runs each"), replay.err());
        JsonNode j = new ObjectMapper().readTree(replay.out());
        assertEquals(2, j.get("variants").size(), replay.out());
        Path shmem = dir.resolve("r.shmem.arrow");
        Path anon = dir.resolve("r.anon.arrow");
        assertEquals(shmem.toString(), j.get("variants").get(0).get("results").asText());
        assertEquals(anon.toString(), j.get("variants").get(1).get("results").asText());
        for (JsonNode v : j.get("variants")) {
            assertEquals(2, v.get("runs").size());
            for (JsonNode run : v.get("runs")) {
                assertEquals(3000, run.get("faults").asLong(), v.toString());
            }
        }
        assertFalse(Files.exists(r), "no file under the plain name: one per variant");
        // interleaved, the second round starting with the other variant: shmem 1, anon 1, anon 2, shmem 2
        long[] s = runStarts(shmem, 2);
        long[] a = runStarts(anon, 2);
        assertTrue(s[0] < a[0] && a[0] < a[1] && a[1] < s[1], "shmem " + java.util.Arrays.toString(s) + " anon "
                + java.util.Arrays.toString(a));

        CliRun inspect = CliRun.of("inspect", anon.toString());
        assertEquals(0, inspect.exit(), inspect.err());
        assertTrue(inspect.out().contains("variant"), inspect.out());
        assertTrue(inspect.out().contains("COPY"), inspect.out());

        CliRun compare = CliRun.of("compare", shmem.toString(), anon.toString(), "-o", dir.resolve("cmp").toString());
        assertTrue(compare.exit() == 0 || compare.exit() == 3, compare.out() + compare.err());
        assertTrue(compare.out().contains("COPY 4K shmem vs COPY 4K anon => "), compare.out());
        assertTrue(compare.out().contains("(on p50; resampled 2 vs 2 runs)"), "one page size: gated on p50\n" + compare.out());
        assertTrue(Files.size(dir.resolve("cmp/percentiles-copy-4k-shmem-vs-copy-4k-anon.png")) > 5_000);

        // a minimum effect as Firecracker's A/B tool takes it: no change within 500%
        CliRun lenient = CliRun.of("compare", shmem.toString(), anon.toString(), "--min-effect", "500%", "-o", dir.resolve("cmp2").toString());
        assertEquals(0, lenient.exit(), lenient.out() + lenient.err());
        assertTrue(lenient.out().contains("no regression at a 500.0% threshold"), lenient.out());

        CliRun bad = CliRun.of("replay", t.toString(), "--backend", "shmem,shmem");
        assertEquals(2, bad.exit());
        assertTrue(bad.err().startsWith("faultline replay: --backend: 'shmem' is listed twice"), bad.err());
    }

    @Test
    void fourKAndTwoMReplaysOfOneTraceCompareOnTheTimeToPopulateTheirWorkingSet(@TempDir Path dir) throws Exception {
        // 1024 sequential 4K pages: 4 MiB, two 2M pages
        assumeTrue(HugePages.free(2 << 20) >= 4, "needs 4 free 2M huge pages: " + HugePages.reserveHint(2 << 20, 4));
        Path t = dir.resolve("t.arrow");
        CliRun rec = CliRun.of("record", "--workload", "sequential", "--backend", "shmem", "--pages", "1024", "-o", t.toString());
        assertEquals(0, rec.exit(), rec.err());
        Path r = dir.resolve("r.arrow");
        CliRun replay = CliRun.of("replay", t.toString(), "--backend", "shmem,hugetlb2m", "--runs", "3", "--warmup", "1", "-o",
                r.toString());
        assertEquals(0, replay.exit(), replay.err());

        CliRun compare = CliRun.of("compare", dir.resolve("r.shmem.arrow").toString(), dir.resolve("r.hugetlb2m.arrow").toString(),
                "-o", dir.resolve("cmp").toString());
        String out = compare.out() + compare.err();
        assertEquals(0, compare.exit(), out);
        // a 2M COPY takes longer than a 4K one, but the 4 MiB take 512x fewer faults
        assertTrue(out.contains("COPY 4K shmem vs COPY 2M hugetlb p50"), out);
        assertTrue(out.contains("COPY 4K shmem vs COPY 2M hugetlb => IMPROVEMENT (on populate; resampled 3 vs 3 runs)"), out);
        assertTrue(out.contains("(4.00 vs 4.00 MiB;"), out);
        JsonNode g = new ObjectMapper().readTree(dir.resolve("cmp/summary.json").toFile()).get("groups").get(0);
        assertEquals("regression", g.get("p50_verdict").asText(), "per fault, 2M is slower: " + g);
        assertTrue(g.get("populate_ratio").asDouble() < 0.5, g.toString());
        assertEquals("improvement", g.get("verdict").asText());

        CliRun perFault = CliRun.of("compare", dir.resolve("r.shmem.arrow").toString(), dir.resolve("r.hugetlb2m.arrow").toString(),
                "--gate", "50", "-o", dir.resolve("cmp2").toString());
        assertEquals(CompareCommand.EXIT_REGRESSION, perFault.exit(), perFault.out() + perFault.err());
    }
}
