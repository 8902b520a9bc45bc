package dev.faultline.replay;

import dev.faultline.core.region.HugePages;
import dev.faultline.core.trace.TraceReader;
import dev.faultline.replay.plan.RegionPlan;
import dev.faultline.replay.plan.ReplayPlan;
import dev.faultline.replay.plan.ReplayPlanner;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Every sample trace in traces/ reads complete and replays with the recorded number of faults and the served content. */
class SampleTracesTest {
    static Path traces() {
        return Path.of(System.getProperty("faultline.root", "..")).resolve("traces");
    }

    static Stream<Path> samples() throws IOException {
        List<Path> all;
        try (Stream<Path> s = Files.list(traces())) {
            all = s.filter(p -> p.toString().endsWith(".arrow")).sorted().toList();
        }
        assertTrue(all.size() >= 6, "the sample traces are there: " + all);
        return all.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("samples")
    void readsCompleteAndReplays(Path sample) throws IOException {
        try (TraceReader r = TraceReader.open(sample)) {
            assertFalse(r.recovered(), "a complete file");
            while (r.nextBatch()) {
                // every batch decodes
            }
            assertEquals(Long.parseLong(r.footer().get("events")), r.rowsRead());
        }
        ReplayOptions o = ReplayOptions.builder().runs(1, 0).verify(true).build();
        ReplayPlan plan = ReplayPlanner.plan(sample, o);
        for (RegionPlan region : plan.regions()) {
            if (region.backend().isHugetlb()) {
                long need = region.length() / region.pageSize() + 1;
                assumeTrue(HugePages.free(region.pageSize()) >= need, "needs " + need + " free " + region.backend().label()
                        + " pages: " + HugePages.reserveHint(region.pageSize(), need));
            }
        }
        ReplayRunner.Result result = new ReplayRunner(plan, o).run(null, "test", p -> { });
        assertEquals(1, result.runs().size(), "--warmup 0 means no warm-up, however cold the JIT");
        RunResult run = result.runs().getLast();
        assertEquals(plan.recordedFaults(), run.faults(), "as many faults as recorded");
        assertEquals("ok", run.verified());
    }
}
