package dev.faultline.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.faultline.replay.plan.PlanFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A replay's options handed to {@link GuestReplay} as key=value arguments, and a real run of it in a JVM of its own. */
class GuestReplayTest {
    @Test
    void everyReplayOptionButTheKernelsReachesTheGuestUnchanged() {
        ReplayCommand parsed = new ReplayCommand();
        CommandLine cl = new CommandLine(parsed);
        cl.parseArgs("t.arrow", "--backend", "hugetlb2m", "--resolve", "continue", "--threads", "3", "--pace", "2x",
                "--handler-threads", "2", "--wait", "poll", "--delay", "50us", "--prefetch", "working-set", "--warmup", "4",
                "--compression", "none", "--ring", "77", "--cpu-idle", "system", "--allow-empty", "--verify");
        List<String> args = parsed.guestArgs("/g/t.arrow", "/g/replay.plan", "/g/run-0.arrow");
        assertEquals(args, ReplayCommand.fromGuestArgs(args).guestArgs("/g/t.arrow", "/g/replay.plan", "/g/run-0.arrow"));
        ReplayCommand back = ReplayCommand.fromGuestArgs(args);
        assertEquals(Path.of("/g/t.arrow"), back.trace);
        assertEquals(Path.of("/g/replay.plan"), back.planFile);
        assertEquals(Path.of("/g/run-0.arrow"), back.output);
        assertEquals(1, back.runs, "one measured run per guest run");
        assertTrue(back.json);

        // a new replay option must reach the guest too, or be one the host keeps for itself
        Set<String> keys = new HashSet<>();
        args.forEach(a -> keys.add(a.substring(0, a.indexOf('='))));
        Set<String> hostOnly = new HashSet<>(Set.of("--output", "--no-results", "--runs", "--json", "--help", "--version"));
        cl.getCommandSpec().mixins().get("guests").options().forEach(o -> hostOnly.add(o.longestName()));
        for (CommandLine.Model.OptionSpec o : cl.getCommandSpec().options()) {
            if (!hostOnly.contains(o.longestName())) {
                assertTrue(keys.contains(o.longestName().substring(2)), o.longestName() + " is not handed to the guest: " + args);
            }
        }
    }

    @Test
    void whatIsNotKeyEqualsValueOrNotAnOptionIsAUsageError() {
        assertEquals("unknown option 'bogus'",
                assertThrows(UsageError.class, () -> ReplayCommand.fromGuestArgs(List.of("trace=t", "bogus=1"))).getMessage());
        assertEquals("'--runs' is not key=value",
                assertThrows(UsageError.class, () -> ReplayCommand.fromGuestArgs(List.of("trace=t", "--runs"))).getMessage());
        assertEquals("ring: 'many' is not a number",
                assertThrows(UsageError.class, () -> ReplayCommand.fromGuestArgs(List.of("trace=t", "ring=many"))).getMessage());
        assertEquals("no trace=", assertThrows(UsageError.class, () -> ReplayCommand.fromGuestArgs(List.of("runs=1"))).getMessage());
    }

    @Test
    void aRunReplaysTheTraceAndPrintsTheSummaryOrOneLineWithTheExitStatusOfReplay(@TempDir Path dir) throws Exception {
        Path trace = ReplayCommandTest.recordTrace(dir, "2000");
        Path results = dir.resolve("run-0.arrow");
        Run ok = run(dir, "trace=" + trace, "output=" + results, "runs=1", "json=true", "warmup=0");
        assertEquals(0, ok.exit, ok.err);
        JsonNode j = new ObjectMapper().readTree(ok.out);
        assertEquals(2000, j.path("runs").path(0).path("faults").asLong(), ok.out);
        assertTrue(Files.size(results) > 0);

        Run usage = run(dir, "trace=" + trace, "output=" + dir.resolve("x.arrow"), "wait=sideways");
        assertEquals(2, usage.exit, usage.err);
        assertEquals("faultline replay: --wait: unknown value 'sideways' (expected spin, poll)", usage.err.strip());

        Run missing = run(dir, "trace=" + dir.resolve("none.arrow"), "output=" + dir.resolve("y.arrow"));
        assertEquals(1, missing.exit, missing.err);
        assertTrue(missing.err.strip().startsWith("faultline replay: "), missing.err);
        assertEquals(1, missing.err.strip().lines().count(), missing.err);
        assertTrue(Files.notExists(dir.resolve("y.arrow")));

        Run noPlan = run(dir, "trace=" + trace, "plan=" + dir.resolve("none.plan"), "output=" + dir.resolve("z.arrow"));
        assertEquals(1, noPlan.exit, noPlan.err);
        assertTrue(noPlan.err.strip().startsWith("faultline replay: ") && noPlan.err.contains("none.plan"), noPlan.err);
        assertEquals(1, noPlan.err.strip().lines().count(), noPlan.err);
        assertTrue(Files.notExists(dir.resolve("z.arrow")));
    }

    @Test
    void withTheHostsPlanARunSetsUpNoArrowNorJacksonBeforeItsFirstFaultAndItsResultsHoldEveryFault(@TempDir Path dir)
            throws Exception {
        Path trace = ReplayCommandTest.recordTrace(dir, "2000");
        Path plan = dir.resolve("replay.plan");
        PlanFile.write(ReplayCommand.fromGuestArgs(List.of("trace=" + trace, "warmup=0")).plan(), plan);
        Path results = dir.resolve("run-0.arrow");
        Path classes = dir.resolve("classes.log");
        Run ok = run(dir, List.of("-Xlog:class+load=info:file=" + classes), "trace=" + trace, "plan=" + plan, "output=" + results,
                "runs=1", "json=true", "warmup=1");
        assertEquals(0, ok.exit, ok.err);
        JsonNode group = new ObjectMapper().readTree(ok.out).path("groups").path(0);
        assertEquals(2000, group.path("faults").asLong(), "the results file's rows, analysed: " + ok.out);
        assertTrue(group.path("fault_to_resolve_p50_ns").asLong() > 0, "every row kept its times: " + ok.out);

        // the warm-up run's touches begin where TouchRun is loaded; Arrow (and the Jackson it brings) only after the runs
        List<String> loaded = Files.readAllLines(classes).stream().map(l -> l.replaceFirst("^\\[[^]]*\\]\\[[^]]*\\]\\[[^]]*\\] ", ""))
                .map(l -> l.split(" ", 2)[0]).toList();
        int touching = loaded.indexOf("dev.faultline.collector.touch.TouchRun");
        assertTrue(touching > 0, "TouchRun never loaded: " + loaded.size() + " classes");
        for (String c : loaded.subList(0, touching)) {
            assertTrue(!c.startsWith("org.apache.arrow.") && !c.startsWith("com.fasterxml.jackson."),
                    c + " was loaded before the first fault");
        }
        assertTrue(loaded.stream().anyMatch(c -> c.startsWith("org.apache.arrow.vector.")), "the results are Arrow all the same");
    }

    private record Run(int exit, String out, String err) {
    }

    private static Run run(Path dir, String... args) throws Exception {
        return run(dir, List.of(), args);
    }

    private static Run run(Path dir, List<String> jvmFlags, String... args) throws Exception {
        Path out = dir.resolve("out.txt");
        Path err = dir.resolve("err.txt");
        List<String> cmd = new java.util.ArrayList<>(KernelSession.javaCommand(GuestReplay.class, List.of(args), null, List.of()));
        cmd.addAll(cmd.indexOf("-cp"), jvmFlags); // after the command's own -Xlog:disable
        Process p = new ProcessBuilder(cmd)
                .directory(dir.toFile()).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "GuestReplay did not end within 120 s");
        return new Run(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8));
    }
}
