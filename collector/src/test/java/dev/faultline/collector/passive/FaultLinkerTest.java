package dev.faultline.collector.passive;

import dev.faultline.core.abi.MmanAbi;
import dev.faultline.core.abi.UffdAbi;
import dev.faultline.core.region.Backend;
import dev.faultline.core.trace.EventKind;
import dev.faultline.core.trace.RegionInfo;
import dev.faultline.core.trace.TraceEvent;
import dev.faultline.core.uffd.ResolveIoctl;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

import static dev.faultline.collector.passive.CaptureRecord.IOCTL;
import static dev.faultline.collector.passive.CaptureRecord.MEMFD;
import static dev.faultline.collector.passive.CaptureRecord.MMAP;
import static dev.faultline.collector.passive.CaptureRecord.MSG;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Linking, from records as the capture program writes them: faults read by one thread and
 * resolved by another, delivered out of order, pushes no fault asked for, a fault no ioctl
 * resolved, a registration undone before anything used it, DONTWAKE placements woken by a WAKE.
 */
class FaultLinkerTest {
    static final long BASE = 0x7f0000000000L;
    static final int REG = UffdAbi._UFFDIO_REGISTER;

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
    }, address -> new ProcessMaps.Area(address & -4096, (address & -4096) + (1 << 20), "/memfd:guest (deleted)", 4096,
            List.of("rd", "wr", "sh", "um")));
    final EventOrder order = new EventOrder(1_000_000, linker);
    final CapturedEvent e = new CapturedEvent();

    /** An ioctl record: nr, return, then the struct's words; the slot last. */
    void ioctl(int tid, long enter, long exit, int nr, long ret, long... struct) {
        long[] w = new long[8];
        w[0] = nr;
        w[1] = ret;
        System.arraycopy(struct, 0, w, 2, Math.min(5, struct.length));
        order.add(e.set(IOCTL, tid, enter, exit, w));
    }

    /** A fault message read by {@code tid} at {@code time}: flags, address, ptid, then the fault entry (time, tid, address). */
    void fault(int tid, long time, long flags, long address, long ptid, long entered, long enteredTid, long enteredAt) {
        order.add(e.set(MSG, tid, time, time, UffdAbi.UFFD_EVENT_PAGEFAULT, flags, address, ptid, entered, enteredTid, enteredAt, 3));
    }

    @Test
    void faultsAreLinkedAcrossThreadsWhateverOrderTheRecordsCameIn() throws Exception {
        int copy = UffdAbi._UFFDIO_COPY;
        // register 256 pages (tid 10), then: thread 20 faults page 1, thread 11 reads it, thread 12 resolves it
        ioctl(10, 100, 200, REG, 0, BASE, 256 * 4096, 1, 0, 0);
        ioctl(12, 5000, 6000, copy, 0, BASE + 4096, 999, 4096, 0, 4096); // arrives first (another CPU)
        fault(11, 3000, 1, BASE + 4096 + 12, 20, 1000, 20, BASE + 4096 + 12);
        // a push of page 7 no fault asked for, and a fault on page 9 nothing resolved
        ioctl(12, 7000, 8000, copy, 0, BASE + 7 * 4096, 999, 4096, 0, 4096);
        fault(11, 9000, 0, BASE + 9 * 4096, 21, 0, 0, 0);
        order.drain();
        linker.finish();

        assertEquals(1, regions.size());
        assertEquals(Backend.SHMEM.traceName(), regions.getFirst().backend());
        assertEquals("memfd:guest", regions.getFirst().name());
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
        assertEquals(1, linker.latency().getTotalCount(), "only the fault with an entry has a fault -> resolve latency");
        assertEquals(6000 - 1000, linker.latency().getMaxValue(), 5);
        assertEquals(3000 - 1000, linker.queue().getMaxValue(), 5);
        assertEquals(6000 - 3000, linker.service().getMaxValue(), 5);
    }

    @Test
    void aRegistrationUndoneBeforeAnyRowNamedItIsLeftOutAndTheRestAreNumberedInOrder() throws Exception {
        int copy = UffdAbi._UFFDIO_COPY;
        // QEMU probes with a 4 KiB test area: registered, unregistered; then registers its RAM blocks
        ioctl(10, 100, 110, REG, 0, BASE + (64 << 20), 4096, 1, 0, 0);
        ioctl(10, 120, 130, UffdAbi._UFFDIO_UNREGISTER, 0, BASE + (64 << 20), 4096);
        ioctl(10, 200, 210, REG, 0, BASE, 1 << 20, 1, 0, 0);
        ioctl(10, 300, 310, REG, 0, BASE + (2 << 20), 1 << 20, 1, 0, 0);
        ioctl(12, 500, 600, copy, 0, BASE + (2 << 20), 0, 4096, 0, 4096);
        order.drain();
        linker.finish();
        assertEquals(2, regions.size(), regions.toString());
        assertEquals(BASE, regions.get(0).base());
        assertEquals(0, regions.get(0).id());
        assertEquals(BASE + (2 << 20), regions.get(1).base());
        assertEquals(1, rows.getFirst().region, "the push is on the second live region");
    }

    @Test
    void aFaultPlacedWithDontwakeEndsAtTheWakeThatReleasedIt() throws Exception {
        int copy = UffdAbi._UFFDIO_COPY;
        ioctl(10, 100, 200, REG, 0, BASE, 256 * 4096, 1, 0, 0);
        fault(11, 1000, 0, BASE, 20, 900, 20, BASE);
        // the handler places the faulting page and a neighbour without waking, then wakes both at once
        ioctl(11, 2000, 2100, copy, 0, BASE, 0, 4096, UffdAbi.UFFDIO_COPY_MODE_DONTWAKE, 4096);
        ioctl(11, 2200, 2300, copy, 0, BASE + 4096, 0, 4096, UffdAbi.UFFDIO_COPY_MODE_DONTWAKE, 4096);
        ioctl(11, 2400, 2500, UffdAbi._UFFDIO_WAKE, 0, BASE, 2 * 4096);
        order.drain();
        linker.finish();
        assertEquals(2, rows.size(), rows.toString());
        TraceEvent push = rows.get(0);
        assertEquals(EventKind.RESOLVE, push.kind, "the neighbour: placed, no fault waited on it");
        assertEquals(UffdAbi.UFFDIO_COPY_MODE_DONTWAKE, push.resolveMode);
        TraceEvent f = rows.get(1);
        assertEquals(EventKind.PAGEFAULT, f.kind);
        assertEquals(ResolveIoctl.COPY, f.ioctl);
        assertEquals(UffdAbi.UFFDIO_COPY_MODE_DONTWAKE, f.resolveMode);
        assertEquals(2000, f.tResolveStart, "started by the COPY that placed it");
        assertEquals(2500, f.tResolveEnd, "ended by the WAKE that let it run (which is no RESOLVE row of its own)");
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
        gone.accept(c.set(MEMFD, 10, 100, 100, 5, MmanAbi.MFD_HUGETLB | (21 << MmanAbi.MFD_HUGE_SHIFT)));
        gone.accept(c.set(MMAP, 10, 200, 200, BASE, 32 << 20, MmanAbi.MAP_SHARED, 5, 3));
        gone.accept(c.set(MMAP, 10, 250, 250, BASE + (64 << 20), 8192, MmanAbi.MAP_PRIVATE | MmanAbi.MAP_ANONYMOUS, -1, 3));
        gone.accept(c.set(IOCTL, 10, 300, 400, REG, 0, BASE, 32 << 20, 4, 0, 0, 0));
        gone.accept(c.set(IOCTL, 10, 500, 600, REG, 0, BASE + (64 << 20), 8192, 1, 0, 0, 1));
        gone.finish();
        assertEquals(2, found.size());
        assertEquals("hugetlb", found.get(0).backend());
        assertEquals(2 << 20, found.get(0).pageSize());
        assertEquals("MINOR", found.get(0).modes());
        assertEquals("anon", found.get(1).backend());
    }

    @Test
    void aRecordOfTheWrongSizeForItsTypeIsRefused() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment m = a.allocate(CaptureRecord.MSG_BYTES, 8);
            m.set(ValueLayout.JAVA_INT, 0, CaptureRecord.MSG);
            CapturedEvent c = new CapturedEvent();
            assertTrue(c.decode(m, 0, CaptureRecord.MSG_BYTES));
            assertFalse(c.decode(m, 0, CaptureRecord.MSG_BYTES - 8), "a program and a reader that disagree");
            m.set(ValueLayout.JAVA_INT, 0, 99);
            assertFalse(c.decode(m, 0, CaptureRecord.MSG_BYTES), "an unknown type");
        }
    }
}
