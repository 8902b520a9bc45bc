package dev.faultline.replay;

import dev.faultline.analysis.GroupKey;
import dev.faultline.collector.touch.TouchKind;
import dev.faultline.collector.workload.WorkloadKind;
import dev.faultline.collector.workload.WorkloadRunner;
import dev.faultline.collector.workload.WorkloadSpec;
import dev.faultline.core.region.Backend;
import dev.faultline.core.region.CpuIdle;
import dev.faultline.core.region.CpuIdleHold;
import dev.faultline.core.region.HugePages;
import dev.faultline.core.trace.Compression;
import dev.faultline.core.trace.EventKind;
import dev.faultline.core.trace.RegionInfo;
import dev.faultline.core.trace.TraceEvent;
import dev.faultline.core.trace.TraceHeader;
import dev.faultline.core.trace.TraceReader;
import dev.faultline.core.trace.TraceWriter;
import dev.faultline.core.uffd.RegisterMode;
import dev.faultline.core.uffd.ResolveIoctl;
import dev.faultline.replay.plan.ReplayPlan;
import dev.faultline.replay.plan.ReplayPlanner;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Replays of real recordings and of hand-made traces, against the real kernel, read back from the results file. */
class ReplayTest {

    /** What a trace or results file holds, counted the ways the replay must reproduce. */
    record Counts(long faults, List<Long> perThread, Map<ResolveIoctl, Long> perIoctl, Set<String> pages, long resolves) {
        static Counts of(Path file, int run) throws IOException {
            Map<Integer, Long> byTid = new HashMap<>();
            Map<ResolveIoctl, Long> byIoctl = new EnumMap<>(ResolveIoctl.class);
            Set<String> pages = new HashSet<>();
            long faults = 0;
            long resolves = 0;
            TraceEvent e = new TraceEvent();
            try (TraceReader r = TraceReader.open(file)) {
                while (r.nextBatch()) {
                    for (int i = 0; i < r.batchRows(); i++) {
                        r.read(i, e);
                        if (e.run != run) {
                            continue;
                        }
                        if (e.kind == EventKind.RESOLVE) {
                            resolves++;
                        }
                        if (e.kind != EventKind.PAGEFAULT) {
                            continue;
                        }
                        faults++;
                        byTid.merge(e.tid, 1L, Long::sum);
                        byIoctl.merge(e.ioctl, 1L, Long::sum);
                        pages.add(e.region + ":" + e.offset);
                    }
                }
            }
            List<Long> perThread = new ArrayList<>(byTid.values());
            perThread.sort(null);
            return new Counts(faults, perThread, byIoctl, pages, resolves);
        }
    }

    static Path record(Path dir, WorkloadKind kind, Backend backend, ResolveIoctl op, int pages, int threads) throws IOException {
        WorkloadSpec s = WorkloadSpec.defaults(kind, backend, op, pages).withThreads(threads).withSeed(7);
        Path trace = dir.resolve("t-" + kind.label() + "-" + backend.label() + "-" + op + ".arrow");
        new WorkloadRunner(s).run(trace, "test", p -> { });
        return trace;
    }

    static ReplayRunner.Result replay(Path trace, Path out, ReplayOptions o) throws IOException {
        ReplayPlan plan = ReplayPlanner.plan(trace, o);
        return new ReplayRunner(plan, o).run(out, "test", p -> { });
    }

    static void assumeHuge(Backend b, long pages) {
        assumeTrue(HugePages.free(b.pageSize()) > pages, "needs " + (pages + 1) + " free " + b.label() + " pages: "
                + HugePages.reserveHint(b.pageSize(), pages + 1));
    }

    @ParameterizedTest(name = "{0} {1} {2} x{4}")
    @CsvSource({
        "RANDOM, SHMEM, COPY, 4000, 2",
        "RESTORE, SHMEM, COPY, 3000, 4",
        "ZIPF, ANON, WRITEPROTECT, 2000, 2",
        "RANDOM, SHMEM, CONTINUE, 2000, 1",
        "SEQUENTIAL, ANON, ZEROPAGE, 2000, 1",
        "SEQUENTIAL, ANON, MOVE, 2000, 1",
        "RANDOM, SHMEM, POISON, 300, 1",
        "RANDOM, HUGETLB_2M, COPY, 16, 2",
    })
    void replaysTheSameFaultsPerThreadPerIoctlAndTheSamePages(WorkloadKind kind, Backend backend, ResolveIoctl op,
                                                             int pages, int threads, @TempDir Path dir) throws IOException {
        if (backend.isHugetlb()) {
            assumeHuge(backend, 2L * pages);
        }
        Path trace = record(dir, kind, backend, op, pages, threads);
        Path out = dir.resolve("r.arrow");
        ReplayRunner.Result r = replay(trace, out, ReplayOptions.builder().verify(true).build());

        Counts recorded = Counts.of(trace, -1);
        Counts replayed = Counts.of(out, 0);
        assertEquals(recorded.faults(), replayed.faults(), "faults");
        assertEquals(recorded.perThread(), replayed.perThread(), "faults per thread");
        assertEquals(recorded.perIoctl(), replayed.perIoctl(), "faults per ioctl");
        assertEquals(recorded.pages(), replayed.pages(), "the same pages");
        assertEquals(recorded.faults(), r.runs().getLast().faults(), "the handler's own count");
        assertEquals("ok", r.runs().getLast().verified());
        assertFalse(Files.exists(dir.resolve(".r.arrow.partial")), "no partial file left");
        try (TraceReader rr = TraceReader.open(out)) {
            assertTrue(rr.hasRunColumn());
            assertEquals("replay", rr.header().source());
            assertEquals(trace.getFileName().toString(), rr.header().extra().get("trace"));
        }
    }

    @Test
    void aShmemScanReplaysOnHugetlb2mWith512TimesFewerFaultsAndOnAnonWithAsMany(@TempDir Path dir) throws IOException {
        assumeHuge(Backend.HUGETLB_2M, 4);
        Path trace = record(dir, WorkloadKind.SEQUENTIAL, Backend.SHMEM, ResolveIoctl.COPY, 2048, 1);

        ReplayRunner.Result huge = replay(trace, dir.resolve("h.arrow"),
                ReplayOptions.builder().backend(Backend.HUGETLB_2M).verify(true).build());
        assertEquals(2048 / 512, huge.runs().getLast().faults(), "one fault per 2M page of an 8 MiB scan");
        assertEquals("ok", huge.runs().getLast().verified());
        GroupKey g = huge.analysis().groups().getFirst().key();
        assertEquals(Backend.HUGETLB_2M.pageSize(), g.pageSize());
        assertEquals("hugetlb", g.backend());

        ReplayRunner.Result anon = replay(trace, dir.resolve("a.arrow"), ReplayOptions.builder().backend(Backend.ANON).build());
        assertEquals(2048, anon.runs().getLast().faults());
        assertEquals("anon", anon.analysis().groups().getFirst().key().backend());
    }

    @Test
    void runsAndWarmupGoToOneFileWithARunColumn(@TempDir Path dir) throws IOException {
        Path trace = record(dir, WorkloadKind.RANDOM, Backend.SHMEM, ResolveIoctl.COPY, 1000, 1);
        Path out = dir.resolve("r.arrow");
        ReplayRunner.Result r = replay(trace, out, ReplayOptions.builder().runs(3, 1).build());
        long warmUps = r.runs().stream().filter(RunResult::warmup).count();
        assertTrue(warmUps >= 1 && warmUps <= ReplayRunner.MAX_WARM_UPS, "the one asked for, and more while the JIT compiled: " + warmUps);
        assertEquals(3, r.runs().size() - warmUps);
        assertTrue(r.runs().getFirst().warmup());
        for (int run = 0; run < 3; run++) {
            assertEquals(1000, Counts.of(out, run).faults(), "run " + run);
        }
        assertEquals(0, Counts.of(out, -1).faults(), "warm-up rows are not written");
        assertEquals(3, r.analysis().runs().values().iterator().next().size());
        assertEquals(List.of(), faultlineMappings(), "every run's regions are unmapped once the replay returns");
    }

    @Test
    void idleCpusPollDuringAReplayUnlessToldOtherwiseAndTheResultsSaySo(@TempDir Path dir) throws IOException {
        assumeTrue(Files.isWritable(Path.of(CpuIdleHold.DEVICE)), CpuIdleHold.DEVICE + " is not writable here (needs root)");
        Path trace = record(dir, WorkloadKind.SEQUENTIAL, Backend.SHMEM, ResolveIoctl.COPY, 200, 1);
        int before = CpuIdleHold.currentLimitMicros();
        Path polled = dir.resolve("poll.arrow");
        assertEquals("poll", replay(trace, polled, ReplayOptions.defaults()).cpuIdle());
        Path halted = dir.resolve("system.arrow");
        assertEquals("system", replay(trace, halted, ReplayOptions.builder().cpuIdle(CpuIdle.SYSTEM).build()).cpuIdle());
        try (TraceReader p = TraceReader.open(polled); TraceReader s = TraceReader.open(halted)) {
            assertEquals("poll", p.header().extra().get("cpu_idle"));
            assertEquals("system", s.header().extra().get("cpu_idle"));
        }
        assertEquals(before, CpuIdleHold.currentLimitMicros(), "the replay dropped its CPU latency request when it ended");
    }

    /** The lines of /proc/self/maps that are regions Faultline mapped (memfd:faultline-…). */
    static List<String> faultlineMappings() throws IOException {
        return Files.readAllLines(Path.of("/proc/self/maps")).stream().filter(l -> l.contains("memfd:faultline-")).toList();
    }

    @Test
    void threadsFoldAndSpread(@TempDir Path dir) throws IOException {
        Path trace = record(dir, WorkloadKind.RANDOM, Backend.SHMEM, ResolveIoctl.COPY, 1200, 3);
        ReplayPlan folded = ReplayPlanner.plan(trace, ReplayOptions.builder().threads(1).build());
        assertEquals(1, folded.scripts().size());
        assertEquals(1200, folded.scripts().getFirst().size());
        ReplayPlan spread = ReplayPlanner.plan(trace, ReplayOptions.builder().threads(6).build());
        assertEquals(6, spread.scripts().size());
        assertEquals(200, spread.scripts().get(5).size());
        Path out = dir.resolve("r.arrow");
        ReplayRunner.Result r = replay(trace, out, ReplayOptions.builder().threads(6).build());
        assertEquals(1200, r.runs().getLast().faults());
        assertEquals(List.of(200L, 200L, 200L, 200L, 200L, 200L), Counts.of(out, 0).perThread(), "six threads fault");
    }

    @Test
    void prefetchingTheWorkingSetLeavesNoFaultsAndIsComparedWithOnDemand(@TempDir Path dir) throws IOException {
        Path trace = record(dir, WorkloadKind.RANDOM, Backend.SHMEM, ResolveIoctl.COPY, 2000, 1);
        ReplayRunner.Result r = replay(trace, null, ReplayOptions.builder().prefetch(true).verify(true).build());
        RunResult run = r.runs().getLast();
        assertEquals(2000, run.prefetched());
        assertEquals(0, run.faults(), "every page was there before the touches");
        assertEquals(2000, r.onDemand().faults(), "the on-demand run faults every page");
        assertEquals("ok", run.verified());
    }

    @Test
    void recordedPaceKeepsTheGaps(@TempDir Path dir) throws IOException {
        WorkloadSpec s = WorkloadSpec.defaults(WorkloadKind.SEQUENTIAL, Backend.SHMEM, ResolveIoctl.COPY, 200)
                .withRate(1000); // 1000 touches/s: 199 ms of gaps
        Path trace = dir.resolve("paced.arrow");
        new WorkloadRunner(s).run(trace, "test", p -> { });
        ReplayRunner.Result paced = replay(trace, null, ReplayOptions.builder().pace(Pace.RECORDED).build());
        assertTrue(paced.runs().getLast().nanos() >= 190_000_000L, "recorded pace took " + paced.runs().getLast().nanos() + " ns");
        ReplayRunner.Result fast = replay(trace, null, ReplayOptions.builder().pace(Pace.parse("4x")).build());
        assertTrue(fast.runs().getLast().nanos() >= 190_000_000L / 4, "4x took " + fast.runs().getLast().nanos() + " ns");
        assertTrue(fast.runs().getLast().nanos() < paced.runs().getLast().nanos(), "4x is faster than recorded");
    }

    @Test
    void resolveOverrideAndDelayChangeHowFaultsAreServed(@TempDir Path dir) throws IOException {
        Path trace = record(dir, WorkloadKind.RANDOM, Backend.SHMEM, ResolveIoctl.COPY, 500, 1);
        Path out = dir.resolve("r.arrow");
        ReplayRunner.Result r = replay(trace, out, ReplayOptions.builder().resolve(ResolveIoctl.CONTINUE)
                .delayNanos(200_000).verify(true).build());
        assertEquals(Map.of(ResolveIoctl.CONTINUE, 500L), Counts.of(out, 0).perIoctl());
        assertEquals("ok", r.runs().getLast().verified());
        assertTrue(r.analysis().groups().getFirst().service().getValueAtPercentile(50) >= 200_000,
                "the injected delay is part of the service time");
    }

    // --- hand-made traces -------------------------------------------------------------------

    static Path handMade(Path dir, String name, List<RegionInfo> regions, List<TraceEvent> rows) throws IOException {
        Path f = dir.resolve(name);
        try (TraceWriter w = TraceWriter.create(f, TraceHeader.now("in-process", "hand-made", 0, regions), Compression.NONE)) {
            for (TraceEvent e : rows) {
                w.append(e);
            }
        }
        return f;
    }

    static TraceEvent fault(long seq, int region, long offset, ResolveIoctl op, long resolveLength) {
        TraceEvent e = new TraceEvent();
        e.seq = seq;
        e.kind = EventKind.PAGEFAULT;
        e.region = region;
        e.offset = offset;
        e.flags = 1;
        e.tid = 42;
        e.ioctl = op;
        e.resolveOffset = offset;
        e.resolveLength = resolveLength;
        e.tRead = 1_000_000 + seq * 1000;
        return e;
    }

    static RegionInfo shmem(int id, long length) {
        return RegionInfo.of(id, "r" + id, Backend.SHMEM, length, RegisterMode.MISSING.bits(), 0);
    }

    @Test
    void resolveRowsAreReissuedAndWideRangesSpareTheirNeighbours(@TempDir Path dir) throws IOException {
        List<TraceEvent> rows = new ArrayList<>();
        rows.add(fault(0, 0, 0, ResolveIoctl.COPY, 4 * 4096)); // one fault resolves 4 pages
        for (int p = 1; p < 4; p++) {
            rows.add(fault(p, 0, p * 4096L, ResolveIoctl.COPY, 4096)); // a recorded race: folded
        }
        TraceEvent push = fault(10, 0, 16 * 4096L, ResolveIoctl.COPY, 8 * 4096);
        push.kind = EventKind.RESOLVE;
        rows.add(push);
        rows.add(fault(11, 0, 40 * 4096L, ResolveIoctl.ZEROPAGE, 4096));
        Path trace = handMade(dir, "h.arrow", List.of(shmem(0, 64 * 4096L)), rows);
        Path out = dir.resolve("r.arrow");
        ReplayRunner.Result r = replay(trace, out, ReplayOptions.builder().verify(true).build());
        Counts c = Counts.of(out, 0);
        assertEquals(2, c.faults(), "page 0 (its COPY covers pages 1-3) and page 40");
        assertEquals(1, c.resolves(), "the push is re-issued");
        assertEquals(Map.of(ResolveIoctl.COPY, 1L, ResolveIoctl.ZEROPAGE, 1L), c.perIoctl());
        assertEquals("ok", r.runs().getLast().verified());
    }

    /** Every row of {@code file}. */
    static List<TraceEvent> rows(Path file) throws IOException {
        List<TraceEvent> out = new ArrayList<>();
        try (TraceReader reader = TraceReader.open(file)) {
            while (reader.nextBatch()) {
                for (int i = 0; i < reader.batchRows(); i++) {
                    TraceEvent e = new TraceEvent();
                    reader.read(i, e);
                    out.add(e);
                }
            }
        }
        return out;
    }

    /** A fault timed as a passive capture times it: entry, read, ioctl start and end, {@code service} ns from read to ioctl. */
    static TraceEvent captured(long seq, long offset, long tFault, long service) {
        TraceEvent e = fault(seq, 0, offset, ResolveIoctl.COPY, 4096);
        e.tFault = tFault;
        e.tRead = tFault + 5_000;
        e.tResolveStart = e.tRead + service;
        e.tResolveEnd = e.tResolveStart + 3_000;
        return e;
    }

    /** A push (an ioctl no fault waited on) of the page at {@code offset}, issued at {@code t}. */
    static TraceEvent pushAt(long seq, long offset, long t) {
        TraceEvent e = fault(seq, 0, offset, ResolveIoctl.COPY, 4096);
        e.kind = EventKind.RESOLVE;
        e.tid = 0;
        e.tRead = TraceEvent.UNKNOWN;
        e.tResolveStart = t;
        e.tResolveEnd = t + 3_000;
        return e;
    }

    @Test
    void aPushIsNotIssuedBeforeTheReplayReachedTheFaultItFollowed(@TempDir Path dir) throws IOException {
        // as in a QEMU capture: a background push of another page after each fault
        List<TraceEvent> rows = new ArrayList<>();
        for (int k = 0; k < 100; k++) {
            rows.add(captured(2L * k, k * 4096L, 10_000_000L + k * 100_000L, 1_000));
            rows.add(pushAt(2L * k + 1, (100 + k) * 4096L, 10_000_000L + k * 100_000L + 50_000));
        }
        Path trace = handMade(dir, "pushes.arrow", List.of(shmem(0, 200 * 4096L)), rows);
        Path out = dir.resolve("r.arrow");
        ReplayRunner.Result r = replay(trace, out, ReplayOptions.builder().verify(true).build());
        assertEquals("ok", r.runs().getLast().verified());
        Map<Long, Long> faultStart = new HashMap<>();
        List<TraceEvent> pushes = new ArrayList<>();
        for (TraceEvent e : rows(out)) {
            if (e.kind == EventKind.PAGEFAULT) {
                faultStart.put(e.offset / 4096, e.tFault);
            } else if (e.kind == EventKind.RESOLVE) {
                pushes.add(e);
            }
        }
        assertEquals(100, faultStart.size(), "every recorded fault faulted: no push ran ahead of its touch");
        assertEquals(100, pushes.size());
        for (TraceEvent p : pushes) {
            long followed = p.offset / 4096 - 100;
            assertTrue(p.tResolveStart >= faultStart.get(followed), "the push of page " + p.offset / 4096
                    + " went before the touch of page " + followed + " it followed in the recording");
        }
    }

    @Test
    void delayRecordedWaitsEachFaultsOwnServiceTimeBeforeItsIoctl(@TempDir Path dir) throws IOException {
        List<TraceEvent> rows = new ArrayList<>();
        for (int k = 0; k < 200; k++) {
            rows.add(captured(k, k * 4096L, 10_000_000L + k * 100_000L, k % 2 == 0 ? 500_000 : 0)); // 500 µs, or none
        }
        Path trace = handMade(dir, "service.arrow", List.of(shmem(0, 200 * 4096L)), rows);
        Path out = dir.resolve("r.arrow");
        replay(trace, out, ReplayOptions.builder().delay(new Delay(Delay.Kind.RECORDED, 0)).build());
        org.HdrHistogram.Histogram even = new org.HdrHistogram.Histogram(3);
        org.HdrHistogram.Histogram odd = new org.HdrHistogram.Histogram(3);
        long evenMin = Long.MAX_VALUE; // exact: the histogram's minimum is its bucket's low end, up to 256 ns under
        for (TraceEvent e : rows(out)) {
            if (e.kind == EventKind.PAGEFAULT) {
                long waited = e.tResolveStart - e.tRead;
                ((e.offset / 4096) % 2 == 0 ? even : odd).recordValue(waited);
                if ((e.offset / 4096) % 2 == 0) {
                    evenMin = Math.min(evenMin, waited);
                }
            }
        }
        assertTrue(evenMin >= 500_000, "every fault that took its handler 500 µs waits as long: " + evenMin);
        assertTrue(even.getValueAtPercentile(50) < 700_000, "and not much longer: " + even.getValueAtPercentile(50));
        assertTrue(odd.getValueAtPercentile(50) < 100_000, "a fault its handler served at once is not delayed: "
                + odd.getValueAtPercentile(50));

        ReplayOptions p99 = ReplayOptions.builder().delay(new Delay(Delay.Kind.P99, 0)).build();
        ReplayRunner.Result r = replay(trace, null, p99);
        assertTrue(r.analysis().groups().getFirst().service().getValueAtPercentile(50) >= 500_000,
                "p99 of the recorded times (500 µs) for every fault");
        CliLikeChecks.refusesWithoutServiceTimes(dir);
    }

    /** A trace with no handler times cannot give its faults their recorded delay: one line, before anything runs. */
    static final class CliLikeChecks {
        static void refusesWithoutServiceTimes(Path dir) throws IOException {
            List<TraceEvent> rows = new ArrayList<>();
            TraceEvent f = fault(0, 0, 0, ResolveIoctl.COPY, 4096);
            f.tRead = TraceEvent.UNKNOWN;
            rows.add(f);
            Path trace = handMade(dir, "untimed.arrow", List.of(shmem(0, 4096)), rows);
            ReplayException e = assertThrows(ReplayException.class,
                    () -> ReplayPlanner.plan(trace, ReplayOptions.builder().delay(new Delay(Delay.Kind.RECORDED, 0)).build()));
            assertTrue(e.getMessage().contains("holds no handler service times"), e.getMessage());
        }
    }

    @Test
    void aReplayThatMeasuredNoFaultFailsUnlessEmptyIsAllowed(@TempDir Path dir) throws IOException {
        List<TraceEvent> rows = new ArrayList<>();
        for (int k = 0; k < 10; k++) {
            rows.add(pushAt(k, k * 4096L, 1_000_000L + k * 1000)); // pushes only: nothing ever faults
        }
        Path trace = handMade(dir, "pushes-only.arrow", List.of(shmem(0, 16 * 4096L)), rows);
        Path out = dir.resolve("r.arrow");
        ReplayException e = assertThrows(ReplayException.class, () -> replay(trace, out, ReplayOptions.defaults()));
        assertTrue(e.getMessage().contains("held no fault") && e.getMessage().contains("--allow-empty"), e.getMessage());
        assertFalse(Files.exists(out), "no results for a replay that measured nothing");
        ReplayRunner.Result r = replay(trace, out, ReplayOptions.builder().allowEmpty(true).build());
        assertEquals(10, r.runs().getLast().pushes());
        assertTrue(Files.exists(out));
    }

    @Test
    void faultsPlacedWithDontwakeAreReplayedSoAndStillWoken(@TempDir Path dir) throws IOException {
        List<TraceEvent> rows = new ArrayList<>();
        for (int k = 0; k < 50; k++) {
            TraceEvent f = captured(2L * k, 2L * k * 4096, 10_000_000L + k * 100_000L, 1_000);
            f.resolveMode = (int) dev.faultline.core.abi.UffdAbi.UFFDIO_COPY_MODE_DONTWAKE;
            rows.add(f);
            TraceEvent wake = pushAt(2L * k + 1, 2L * k * 4096, f.tResolveEnd + 1_000);
            wake.ioctl = ResolveIoctl.WAKE;
            rows.add(wake);
        }
        Path trace = handMade(dir, "dontwake.arrow", List.of(shmem(0, 100 * 4096L)), rows);
        Path out = dir.resolve("r.arrow");
        ReplayRunner.Result r = replay(trace, out, ReplayOptions.builder().verify(true).build());
        assertEquals("ok", r.runs().getLast().verified());
        Counts c = Counts.of(out, 0);
        assertEquals(50, c.faults(), "every fault was woken: none hung");
        long dontWake = rows(out).stream().filter(e -> e.kind == EventKind.PAGEFAULT
                && e.resolveMode == dev.faultline.core.abi.UffdAbi.UFFDIO_COPY_MODE_DONTWAKE).count();
        assertEquals(50, dontWake, "resolved with the recorded DONTWAKE");
    }

    /**
     * Rewrites a trace so that its header lists one region fewer than its rows use (TraceWriter
     * refuses to write such a file): the regions JSON is replaced in place, in the schema at the
     * start and in the footer, by one of the same length that drops the last entry.
     */
    static Path forgetLastRegion(Path trace) throws IOException {
        String json;
        try (TraceReader r = TraceReader.open(trace)) {
            json = r.header().toMetadata().get(TraceHeader.KEY_REGIONS);
        }
        String shorter = json.substring(0, json.lastIndexOf(",{")) + "]";
        byte[] from = json.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        byte[] to = (shorter + " ".repeat(json.length() - shorter.length())).getBytes(java.nio.charset.StandardCharsets.UTF_8);
        byte[] file = Files.readAllBytes(trace);
        int replaced = 0;
        for (int i = 0; i + from.length <= file.length; i++) {
            if (java.util.Arrays.equals(file, i, i + from.length, from, 0, from.length)) {
                System.arraycopy(to, 0, file, i, to.length);
                replaced++;
            }
        }
        assertEquals(2, replaced, "the regions JSON is in the schema and in the footer");
        Files.write(trace, file);
        return trace;
    }

    @Test
    void badTracesFailInOneLineBeforeAnythingIsMapped(@TempDir Path dir) throws IOException {
        ReplayOptions o = ReplayOptions.defaults();
        Path past = handMade(dir, "past.arrow", List.of(shmem(0, 4 * 4096L)), List.of(fault(0, 0, 9 * 4096L, ResolveIoctl.COPY, 4096)));
        ReplayException e = assertThrows(ReplayException.class, () -> ReplayPlanner.plan(past, o));
        assertTrue(e.getMessage().contains("offset 36864 is past region 0 (16384 bytes)"), e.getMessage());

        Path wide = handMade(dir, "wide.arrow", List.of(shmem(0, 4 * 4096L)), List.of(fault(0, 0, 0, ResolveIoctl.COPY, 1L << 40)));
        e = assertThrows(ReplayException.class, () -> ReplayPlanner.plan(wide, o));
        assertTrue(e.getMessage().contains("COPY of 1099511627776 bytes at offset 0 does not fit region 0"), e.getMessage());

        Path absurd = handMade(dir, "absurd.arrow", List.of(shmem(0, 1L << 52)), List.of(fault(0, 0, 0, ResolveIoctl.COPY, 4096)));
        e = assertThrows(ReplayException.class, () -> ReplayPlanner.plan(absurd, o));
        assertTrue(e.getMessage().contains("region 0 is 4503599627370496 bytes"), e.getMessage());

        Path unknown = forgetLastRegion(handMade(dir, "unknown.arrow", List.of(shmem(0, 4096), shmem(1, 4096)),
                List.of(fault(0, 1, 0, ResolveIoctl.COPY, 4096))));
        e = assertThrows(ReplayException.class, () -> ReplayPlanner.plan(unknown, o));
        assertTrue(e.getMessage().contains("PAGEFAULT row seq 0 names region 1, but the trace lists 1 (0..0)"), e.getMessage());

        Path guest = handMade(dir, "guest.arrow", List.of(RegionInfo.of(0, "g", Backend.GUEST_MEMFD, 4096, 1, 0)),
                List.of(fault(0, 0, 0, ResolveIoctl.COPY, 4096)));
        e = assertThrows(ReplayException.class, () -> ReplayPlanner.plan(guest, o));
        assertTrue(e.getMessage().contains("guest_memfd, which this kernel cannot register"), e.getMessage());

        Path zero = handMade(dir, "zero.arrow", List.of(shmem(0, 4096)), List.of(fault(0, 0, 0, ResolveIoctl.ZEROPAGE, 4096)));
        assumeHuge(Backend.HUGETLB_2M, 1);
        ReplayOptions onHuge = ReplayOptions.builder().backend(Backend.HUGETLB_2M).build();
        ReplayRunner runner = new ReplayRunner(ReplayPlanner.plan(zero, onHuge), onHuge);
        e = assertThrows(ReplayException.class, runner::check);
        assertTrue(e.getMessage().contains("cannot resolve MISSING faults with ZEROPAGE on this kernel: UFFDIO_ZEROPAGE"), e.getMessage());
        assertTrue(e.getMessage().contains("EINVAL"), e.getMessage());
    }

    @Test
    void aStoppedReplayLeavesNoResultsAndNoThreads(@TempDir Path dir) throws Exception {
        Path trace = record(dir, WorkloadKind.RANDOM, Backend.SHMEM, ResolveIoctl.COPY, 4000, 2);
        ReplayOptions o = ReplayOptions.builder().delayNanos(1_000_000).runs(1000, 0).build(); // ~4 s per run: long enough to stop
        ReplayRunner runner = new ReplayRunner(ReplayPlanner.plan(trace, o), o);
        Path out = dir.resolve("r.arrow");
        Thread stopper = Thread.ofPlatform().start(() -> {
            try {
                Thread.sleep(300);
            } catch (InterruptedException ignored) {
                return;
            }
            runner.stop();
        });
        ReplayException e = assertThrows(ReplayException.class, () -> runner.run(out, "test", p -> { }));
        stopper.join();
        assertTrue(e.getMessage().startsWith("stopped during run 0"), e.getMessage());
        assertFalse(Files.exists(out), "no results file");
        assertFalse(Files.exists(dir.resolve(".r.arrow.partial")), "no partial file");
        Map<String, Thread.State> left = new TreeMap<>();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().startsWith("faultline-") && t.isAlive()) {
                left.put(t.getName(), t.getState());
            }
        }
        assertEquals(Map.of(), left, "no faultline thread left running");
        assertEquals(List.of(), faultlineMappings(), "no region left mapped");
    }

    @Test
    void touchKindsFollowTheRecordedAccess(@TempDir Path dir) throws IOException {
        Path trace = record(dir, WorkloadKind.RANDOM, Backend.SHMEM, ResolveIoctl.POISON, 10, 1);
        ReplayPlan plan = ReplayPlanner.plan(trace, ReplayOptions.defaults());
        assertEquals(TouchKind.KERNEL, plan.scripts().getFirst().kind(0), "a poisoned page is touched by the kernel");
        ReplayPlan wp = ReplayPlanner.plan(record(dir, WorkloadKind.RANDOM, Backend.ANON, ResolveIoctl.WRITEPROTECT, 10, 1),
                ReplayOptions.defaults());
        assertEquals(TouchKind.WRITE, wp.scripts().getFirst().kind(0));
        assertEquals(Set.of(ResolveIoctl.WRITEPROTECT), wp.regions().getFirst().opsUsed());
        assertEquals(RegisterMode.WP, wp.regions().getFirst().mode());
    }
}
