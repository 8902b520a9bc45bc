package dev.faultline.collector.passive;

import dev.faultline.core.abi.MmanAbi;
import dev.faultline.core.abi.UffdAbi;
import dev.faultline.core.region.Backend;
import dev.faultline.core.trace.EventKind;
import dev.faultline.core.trace.RegionInfo;
import dev.faultline.core.trace.TraceEvent;
import dev.faultline.core.uffd.ResolveIoctl;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Linking, from bpftrace lines as the script prints them: faults read by one thread and resolved
 * by another, delivered out of order by per-CPU buffers, pushes no fault asked for, a fault no
 * ioctl resolved.
 */
class FaultLinkerTest {
    static final long BASE = 0x7f0000000000L;

    final List<TraceEvent> rows = new ArrayList<>();
    final List<RegionInfo> regions = new ArrayList<>();
    final FaultLinker linker = new FaultLinker(new FaultLinker.Sink() {
        @Override
        public void region(RegionInfo region) {
            regions.add(region);
        }

        @Override
        public void row(TraceEvent row) {
            rows.add(new TraceEvent().copyFrom(row));
        }
    }, address -> new ProcessMaps.Area(BASE, BASE + (1 << 20), "/memfd:guest (deleted)", 4096, List.of("rd", "wr", "sh", "um")));
    final EventOrder order = new EventOrder(1_000_000, linker);
    final CapturedEvent e = new CapturedEvent();

    void line(String s) {
        byte[] b = s.getBytes(StandardCharsets.US_ASCII);
        assertTrue(e.parse(b, b.length), s);
        order.add(e);
    }

    @Test
    void faultsAreLinkedAcrossThreadsWhateverOrderTheLinesCameIn() throws Exception {
        int copy = UffdAbi._UFFDIO_COPY;
        // register 256 pages (tid 10), then: thread 20 faults page 1, thread 11 reads it, thread 12 resolves it
        line("I 10 100 200 " + UffdAbi._UFFDIO_REGISTER + " 0 " + BASE + " " + (256 * 4096) + " 1 0 0");
        line("I 12 5000 6000 " + copy + " 0 " + (BASE + 4096) + " 999 4096 0 4096"); // printed first (another CPU)
        line("M 11 3000 18 1 " + (BASE + 4096 + 12) + " 20 1000 20 " + (BASE + 4096 + 12));
        // a push of page 7 no fault asked for, and a fault on page 9 nothing resolved
        line("I 12 7000 8000 " + copy + " 0 " + (BASE + 7 * 4096) + " 999 4096 0 4096");
        line("M 11 9000 18 0 " + (BASE + 9 * 4096) + " 21 0 0 0");
        line("T 0 99999999");
        order.drain();
        linker.finish();

        assertEquals(1, regions.size());
        assertEquals(Backend.SHMEM.traceName(), regions.getFirst().backend());
        assertEquals(3, rows.size(), rows.toString());
        TraceEvent f = rows.get(0);
        assertEquals(EventKind.PAGEFAULT, f.kind);
        assertEquals(4096, f.offset);
        assertEquals(BASE + 4096 + 12, f.address);
        assertEquals(20, f.tid);
        assertEquals(1, f.flags);
        assertEquals(ResolveIoctl.COPY, f.ioctl);
        assertEquals(1000, f.tFault);
        assertEquals(3000, f.tRead);
        assertEquals(5000, f.tResolveStart);
        assertEquals(6000, f.tResolveEnd);
        TraceEvent push = rows.get(1);
        assertEquals(EventKind.RESOLVE, push.kind);
        assertEquals(7 * 4096, push.resolveOffset);
        TraceEvent unresolved = rows.get(2);
        assertEquals(EventKind.PAGEFAULT, unresolved.kind);
        assertEquals(ResolveIoctl.NONE, unresolved.ioctl);
        assertEquals(TraceEvent.UNKNOWN, unresolved.tFault);
        assertEquals(2, linker.faults());
        assertEquals(1, linker.resolves());
        assertEquals(2, linker.ioctls(ResolveIoctl.COPY));
    }

    @Test
    void aProcessGoneBeforeItsRegistrationIsLinkedIsDescribedByTheMappingItMade() throws Exception {
        List<RegionInfo> found = new ArrayList<>();
        FaultLinker gone = new FaultLinker(new FaultLinker.Sink() {
            @Override
            public void region(RegionInfo region) {
                found.add(region);
            }

            @Override
            public void row(TraceEvent row) {
            }
        }, address -> null); // smaps: no such process any more
        CapturedEvent c = new CapturedEvent();
        for (String l : List.of(
                "D 10 100 5 " + (MmanAbi.MFD_HUGETLB | (21 << MmanAbi.MFD_HUGE_SHIFT)),
                "P 10 200 " + BASE + " " + (32 << 20) + " " + MmanAbi.MAP_SHARED + " 5",
                "P 10 250 " + (BASE + (64 << 20)) + " 8192 " + (MmanAbi.MAP_PRIVATE | MmanAbi.MAP_ANONYMOUS) + " -1",
                "I 10 300 400 " + UffdAbi._UFFDIO_REGISTER + " 0 " + BASE + " " + (32 << 20) + " 4 0 0",
                "I 10 500 600 " + UffdAbi._UFFDIO_REGISTER + " 0 " + (BASE + (64 << 20)) + " 8192 1 0 0")) {
            byte[] b = l.getBytes(StandardCharsets.US_ASCII);
            assertTrue(c.parse(b, b.length), l);
            gone.accept(c);
        }
        assertEquals(2, found.size());
        assertEquals("hugetlb", found.get(0).backend());
        assertEquals(2 << 20, found.get(0).pageSize());
        assertEquals("MINOR", found.get(0).modes());
        assertEquals("anon", found.get(1).backend());
    }

    @Test
    void linesThatAreNotEventsAreRefusedAndLostCountsAreRead() {
        byte[] b = "Attaching 9 probes...".getBytes(StandardCharsets.US_ASCII);
        assertFalse(e.parse(b, b.length));
        byte[] lost = "Lost 1234 events".getBytes(StandardCharsets.US_ASCII);
        assertFalse(e.parse(lost, lost.length));
        assertEquals(1234, PassiveCapture.lostCount(lost, lost.length));
    }
}
