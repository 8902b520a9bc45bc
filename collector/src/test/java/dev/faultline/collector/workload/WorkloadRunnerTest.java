package dev.faultline.collector.workload;

import dev.faultline.collector.record.RecordRing;
import dev.faultline.collector.record.TraceRecorder;
import dev.faultline.core.region.Backend;
import dev.faultline.core.region.HugePages;
import dev.faultline.core.trace.EventKind;
import dev.faultline.core.trace.TraceEvent;
import dev.faultline.core.trace.TraceReader;
import dev.faultline.core.uffd.ResolveIoctl;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import java.util.BitSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Built-in workloads under the recording handler, read back from the trace they wrote. */
class WorkloadRunnerTest {

    static WorkloadSpec spec(WorkloadKind kind, Backend backend, ResolveIoctl op, int pages, int threads, int ring) {
        return WorkloadSpec.defaults(kind, backend, op, pages).withThreads(threads).withRingCapacity(ring);
    }

    @ParameterizedTest(name = "{0} {1} {2} x{4}")
    @CsvSource({
        "RANDOM, SHMEM, COPY, 20000, 1",
        "SEQUENTIAL, ANON, COPY, 20000, 2",
        "STRIDED, ANON, ZEROPAGE, 5000, 1",
        "RESTORE, SHMEM, COPY, 8000, 4",
        "ZIPF, ANON, WRITEPROTECT, 4000, 2",
        "RANDOM, SHMEM, CONTINUE, 4000, 1",
        "SEQUENTIAL, ANON, MOVE, 4000, 1",
        "RANDOM, SHMEM, POISON, 500, 1",
        "RANDOM, HUGETLB_2M, COPY, 24, 2",
        "SEQUENTIAL, HUGETLB_2M, CONTINUE, 24, 1",
    })
    void oneFaultRowPerFirstTouchWithItsIoctlAndOrderedTimes(WorkloadKind kind, Backend backend, ResolveIoctl op,
                                                             int pages, int threads, @TempDir Path dir) throws Exception {
        if (backend.isHugetlb()) {
            assumeTrue(HugePages.free(backend.pageSize()) > pages, "needs " + (pages + 1) + " free " + backend.label()
                    + " pages: " + HugePages.reserveHint(backend.pageSize(), 64));
        }
        WorkloadSpec s = spec(kind, backend, op, pages, threads, RecordRing.DEFAULT_CAPACITY);
        Path trace = dir.resolve("t.arrow");
        RecordingSummary summary = new WorkloadRunner(s).run(trace, "test", p -> { });
        int expected = AccessPlan.of(kind, pages, threads, s.stride(), s.seed()).distinctPages();
        assertEquals(expected, summary.faults(), "one fault per distinct page touched");
        assertEquals(0, summary.lost());

        BitSet seen = new BitSet(pages);
        long faults = 0;
        try (TraceReader r = TraceReader.open(trace)) {
            assertFalse(r.recovered());
            assertEquals(Long.toString(expected), r.footer().get("faults"));
            assertEquals("0", r.footer().get(TraceRecorder.FOOTER_LOST));
            TraceEvent e = new TraceEvent();
            while (r.nextBatch()) {
                for (int i = 0; i < r.batchRows(); i++) {
                    r.read(i, e);
                    assertEquals(EventKind.PAGEFAULT, e.kind, e.toString());
                    assertEquals(op, e.ioctl);
                    assertEquals(0, e.result, e.toString());
                    assertEquals(backend.pageSize(), r.pageSize(i));
                    int page = (int) (e.offset / backend.pageSize());
                    assertFalse(seen.get(page), "page " + page + " faulted twice");
                    seen.set(page);
                    assertTrue(e.tid > 0);
                    assertTrue(e.tFault != TraceEvent.UNKNOWN && e.tWake != TraceEvent.UNKNOWN, "both sides timed: " + e);
                    // the ioctl wakes the faulting thread before it returns, so t_wake may precede t_resolve_end
                    assertTrue(e.tFault <= e.tRead && e.tRead <= e.tResolveStart && e.tResolveStart <= e.tResolveEnd
                            && e.tResolveStart <= e.tWake, "times in causal order: " + e);
                    faults++;
                }
            }
        }
        assertEquals(expected, faults);
        assertEquals(expected, seen.cardinality());
        assertEquals(summary.latency().getTotalCount(), expected);
    }

    @Test
    void warmUpFaultsUntracedIntoAScratchFileAndTheTraceSaysHowMany(@TempDir Path dir) throws Exception {
        Path tmp = Path.of(System.getProperty("java.io.tmpdir"));
        Set<Path> before = warmUpFiles(tmp);
        WorkloadRunner runner = new WorkloadRunner(WorkloadSpec.defaults(WorkloadKind.SEQUENTIAL, Backend.SHMEM, ResolveIoctl.COPY, 5000));
        assertEquals(3000, runner.warmUp(3000));
        assertEquals(before, warmUpFiles(tmp), "the warm-up's scratch trace is deleted");
        Path trace = dir.resolve("t.arrow");
        RecordingSummary summary = runner.run(trace, "test", p -> { });
        assertEquals(5000, summary.faults(), "the warm-up's faults were on a region of their own");
        try (TraceReader r = TraceReader.open(trace)) {
            assertEquals("3000", r.header().extra().get("warmup_pages"));
            int runs = Integer.parseInt(r.header().extra().get("warmup_runs"));
            assertTrue(runs >= 1 && runs <= WorkloadRunner.MAX_WARM_UPS, "warm-up runs: " + runs);
            assertEquals("5000", r.footer().get("faults"));
        }
    }

    @Test
    void warmUpStaysWithinItsMemoryBudgetAndThePages() throws Exception {
        assertEquals(0, new WorkloadRunner(WorkloadSpec.defaults(WorkloadKind.SEQUENTIAL, Backend.SHMEM, ResolveIoctl.COPY, 200))
                .warmUp(0));
        assertEquals(200, new WorkloadRunner(WorkloadSpec.defaults(WorkloadKind.SEQUENTIAL, Backend.ANON, ResolveIoctl.ZEROPAGE, 200))
                .warmUp(20_000), "never more than the workload's pages");
    }

    @Test
    void hugetlbWarmsUpOnShmemFourKPagesAsManyAsAsked() throws Exception {
        // two 1G pages would warm nothing and one is over the budget: the Java code it warms is the
        // same on 4K shmem, so it runs there (no huge page is needed for that)
        WorkloadRunner runner = new WorkloadRunner(WorkloadSpec.defaults(WorkloadKind.SEQUENTIAL, Backend.HUGETLB_1G, ResolveIoctl.CONTINUE, 2));
        assertEquals(3000, runner.warmUp(3000));
        assertEquals((int) (WorkloadRunner.WARM_UP_BYTES / 4096), new WorkloadRunner(
                WorkloadSpec.defaults(WorkloadKind.SEQUENTIAL, Backend.HUGETLB_2M, ResolveIoctl.COPY, 2)).warmUp(1_000_000),
                "within the budget, in 4K pages");
    }

    static Set<Path> warmUpFiles(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(f -> f.getFileName().toString().startsWith("faultline-warmup-")).collect(Collectors.toSet());
        }
    }

    @Test
    void aRingTooSmallForTheWriterDropsAndTheFooterCountsExactly(@TempDir Path dir) throws Exception {
        WorkloadSpec s = spec(WorkloadKind.SEQUENTIAL, Backend.ANON, ResolveIoctl.ZEROPAGE, 30000, 1, 16);
        Path trace = dir.resolve("t.arrow");
        RecordingSummary summary = new WorkloadRunner(s).run(trace, "test", p -> { });
        assertTrue(summary.lost() > 0, "the writer sleeps far longer than 16 faults take");
        long rows = 0;
        try (TraceReader r = TraceReader.open(trace)) {
            while (r.nextBatch()) {
                rows += r.batchRows();
            }
            assertEquals(Long.toString(summary.lost()), r.footer().get(TraceRecorder.FOOTER_LOST));
        }
        assertEquals(30000, summary.faults());
        assertEquals(summary.faults(), rows + summary.lost(), "every fault is either in the file or counted as lost");
    }

    @Test
    void combinationsTheKernelRefusesAreRefusedBeforeAnythingIsMapped() {
        WorkloadException e = assertThrows(WorkloadException.class,
                () -> new WorkloadRunner(spec(WorkloadKind.SEQUENTIAL, Backend.SHMEM, ResolveIoctl.MOVE, 10, 1, 16)).check());
        assertTrue(e.getMessage().startsWith("shmem cannot resolve MISSING faults with MOVE on this kernel: "), e.getMessage());
        assertTrue(e.getMessage().contains("EINVAL"), e.getMessage());
        WorkloadException huge = assertThrows(WorkloadException.class,
                () -> new WorkloadRunner(spec(WorkloadKind.SEQUENTIAL, Backend.HUGETLB_2M, ResolveIoctl.COPY, 1_000_000, 1, 16)).check());
        assertTrue(huge.getMessage().contains("free huge pages") && huge.getMessage().contains("nr_hugepages"), huge.getMessage());
        WorkloadException absurd = assertThrows(WorkloadException.class,
                () -> new WorkloadRunner(spec(WorkloadKind.SEQUENTIAL, Backend.ANON, ResolveIoctl.COPY, 2_000_000_000, 1, 16)).check());
        assertTrue(absurd.getMessage().contains("MiB are available"), absurd.getMessage());
    }
}
