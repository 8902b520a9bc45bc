package dev.faultline.replay;

import dev.faultline.collector.touch.TouchScript;
import dev.faultline.core.trace.TraceEvent;
import dev.faultline.replay.plan.PlanFile;
import dev.faultline.replay.plan.RegionPlan;
import dev.faultline.replay.plan.ReplayPlan;
import dev.faultline.replay.plan.ReplayPlanner;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A plan written by the host and read back in a guest plans the same replay: every sample trace's, and one with pushes. */
class PlanFileTest {
    @Test
    void everySampleTracesPlanReadsBackTheSame(@TempDir Path dir) throws IOException {
        List<Path> traces;
        try (Stream<Path> s = Files.list(Path.of(System.getProperty("faultline.root", "..")).resolve("traces"))) {
            traces = s.filter(p -> p.toString().endsWith(".arrow")).sorted().toList();
        }
        assertTrue(traces.size() >= 6, "the sample traces are there: " + traces);
        for (Path trace : traces) {
            roundTrip(ReplayPlanner.plan(trace, ReplayOptions.builder().pace(Pace.parse("2x")).threads(2).build()), dir);
        }
    }

    @Test
    void aPlanWithPushesAndRecordedDelaysReadsBackTheSame(@TempDir Path dir) throws IOException {
        List<TraceEvent> rows = new ArrayList<>();
        for (int k = 0; k < 100; k++) {
            rows.add(ReplayTest.captured(2L * k, k * 4096L, 10_000_000L + k * 100_000L, 1_000 + k));
            rows.add(ReplayTest.pushAt(2L * k + 1, (100 + k) * 4096L, 10_000_000L + k * 100_000L + 50_000));
        }
        Path trace = ReplayTest.handMade(dir, "pushes.arrow", List.of(ReplayTest.shmem(0, 200 * 4096L)), rows);
        ReplayPlan plan = ReplayPlanner.plan(trace, ReplayOptions.builder().delay(new Delay(Delay.Kind.RECORDED, 0)).build());
        assertEquals(100, plan.pushes().size());
        assertTrue(plan.regions().getFirst().hasDelays());
        roundTrip(plan, dir);
    }

    @Test
    void aFileThatIsNoPlanOrEndsEarlyIsRefusedNamingIt(@TempDir Path dir) throws IOException {
        Path foreign = dir.resolve("foreign.plan");
        Files.writeString(foreign, "not a plan at all");
        assertEquals(foreign + " is not a replay plan of this faultline build",
                assertThrows(IOException.class, () -> PlanFile.read(foreign)).getMessage());
        Path whole = dir.resolve("whole.plan");
        PlanFile.write(ReplayPlanner.plan(Path.of(System.getProperty("faultline.root", "..")).resolve("traces/sequential-shmem-copy.arrow"),
                ReplayOptions.builder().build()), whole);
        Path cut = dir.resolve("cut.plan");
        byte[] b = Files.readAllBytes(whole);
        Files.write(cut, java.util.Arrays.copyOf(b, b.length / 2));
        assertEquals(cut + " ends before its replay plan does", assertThrows(IOException.class, () -> PlanFile.read(cut)).getMessage());
    }

    private static void roundTrip(ReplayPlan a, Path dir) throws IOException {
        Path file = dir.resolve("replay.plan");
        PlanFile.write(a, file);
        ReplayPlan b = PlanFile.read(file);
        String what = a.trace().toString();
        assertEquals(a.trace(), b.trace(), what);
        assertEquals(a.header(), b.header(), what);
        assertEquals(a.regions().size(), b.regions().size(), what);
        for (int r = 0; r < a.regions().size(); r++) {
            RegionPlan x = a.regions().get(r);
            RegionPlan y = b.regions().get(r);
            assertEquals(x.recorded(), y.recorded(), what);
            assertEquals(x.backend(), y.backend(), what);
            assertEquals(x.length(), y.length(), what);
            assertEquals(x.mode(), y.mode(), what);
            assertEquals(x.opsUsed(), y.opsUsed(), what);
            assertEquals(x.maxRangeLength(), y.maxRangeLength(), what);
            assertArrayEquals(x.pages(), y.pages(), what);
            assertEquals(x.hasDelays(), y.hasDelays(), what);
            for (int i = 0; i < x.faults(); i++) {
                assertEquals(x.op(i), y.op(i), what);
                assertEquals(x.rangeOffset(i), y.rangeOffset(i), what);
                assertEquals(x.rangeLength(i), y.rangeLength(i), what);
                assertEquals(x.mode(i), y.mode(i), what);
                assertEquals(x.find(x.page(i)), y.find(x.page(i)), what);
                if (x.hasDelays()) {
                    assertEquals(x.delay(i), y.delay(i), what);
                }
            }
        }
        assertEquals(a.scripts().size(), b.scripts().size(), what);
        for (int t = 0; t < a.scripts().size(); t++) {
            TouchScript x = a.scripts().get(t);
            TouchScript y = b.scripts().get(t);
            assertEquals(x.size(), y.size(), what);
            assertEquals(x.paced(), y.paced(), what);
            for (int k = 0; k < x.size(); k++) {
                assertEquals(x.region(k), y.region(k), what);
                assertEquals(x.page(k), y.page(k), what);
                assertEquals(x.kind(k), y.kind(k), what);
                assertEquals(x.due(k), y.due(k), what);
            }
        }
        assertArrayEquals(a.threadTids(), b.threadTids(), what);
        assertEquals(a.pushes(), b.pushes(), what);
        assertEquals(a.recordedFaults(), b.recordedFaults(), what);
        assertEquals(a.faultsByTid(), b.faultsByTid(), what);
        assertEquals(a.faultsByIoctl(), b.faultsByIoctl(), what);
        assertEquals(a.folded(), b.folded(), what);
        assertEquals(a.skipped(), b.skipped(), what);
        assertEquals(0, b.serviceTimes().getTotalCount(), "a plan read back has no service times: " + what);
        assertEquals(a.plannedFaults(), b.plannedFaults(), what);
    }
}
