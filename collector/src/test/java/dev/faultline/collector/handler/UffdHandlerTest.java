package dev.faultline.collector.handler;

import dev.faultline.collector.record.RecordRing;
import dev.faultline.core.region.Backend;
import dev.faultline.core.region.Region;
import dev.faultline.core.trace.EventKind;
import dev.faultline.core.trace.TraceEvent;
import dev.faultline.core.uffd.ResolveIoctl;
import dev.faultline.core.uffd.Userfaultfd;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The handler library on real memory: content served from an image, events, failure and shutdown. */
class UffdHandlerTest {
    static final int PAGES = 64;

    @Test
    void copyServesEveryPageOfAnImageAndRecordsEachFault(@TempDir Path dir) throws Exception {
        byte[] image = new byte[PAGES * 4096 - 100]; // the file ends inside the last page: its tail reads as zeroes
        for (int i = 0; i < image.length; i++) {
            image[i] = (byte) (i / 4096 * 7 + i % 13);
        }
        Path file = dir.resolve("vm.mem");
        Files.write(file, image);
        try (PageSource source = PageSource.image(file, 4096); ResolvePolicy policy = ResolvePolicy.of(ResolveIoctl.COPY, source);
             Region region = Region.map(Backend.SHMEM, PAGES * 4096L); Arena arena = Arena.ofConfined()) {
            List<HandledRegion> regions = List.of(new HandledRegion(0, "ram", region, policy, null));
            MemorySegment out = arena.allocate(region.length());
            RecordRing ring;
            UffdHandler h = new UffdHandler(Userfaultfd.open(UffdHandler.features(regions)), regions, 2, WaitStrategy.POLL, 256);
            try (h) {
                region.copyOut(0, out, region.length()); // faults on every page from native code
                assertEquals(2, h.rings().size());
                ring = h.rings().get(0).size() > 0 ? h.rings().get(0) : h.rings().get(1);
                TraceEvent e = new TraceEvent();
                assertTrue(ring.peek(e));
                assertEquals(EventKind.PAGEFAULT, e.kind);
                assertEquals(ResolveIoctl.COPY, e.ioctl);
                assertTrue(e.tRead <= e.tResolveStart && e.tResolveStart <= e.tResolveEnd, e.toString());
            }
            assertEquals(PAGES, h.faults(), "exact once closed");
            assertEquals(PAGES, h.rings().get(0).size() + h.rings().get(1).size());
            for (int i = 0; i < image.length; i++) {
                if (out.get(JAVA_BYTE, i) != image[i]) {
                    throw new AssertionError("byte " + i + " is " + out.get(JAVA_BYTE, i) + ", the image has " + image[i]);
                }
            }
            for (long i = image.length; i < region.length(); i++) {
                assertEquals(0, out.get(JAVA_BYTE, i), "past the end of the image");
            }
        }
    }

    @Test
    void aFailingResolveStopsTheHandlerAndReleasesTheFaultingThread() throws Exception {
        // MOVE onto shmem is refused with EINVAL by the kernel: the handler thread fails
        try (PageSource source = PageSource.pattern(4096, 1); ResolvePolicy policy = ResolvePolicy.of(ResolveIoctl.MOVE, source);
             Region region = Region.map(Backend.SHMEM, PAGES * 4096L); Arena arena = Arena.ofConfined()) {
            List<HandledRegion> regions = List.of(new HandledRegion(0, "ram", region, policy, null));
            UffdHandler h = new UffdHandler(Userfaultfd.open(UffdHandler.features(regions)), regions, 1, WaitStrategy.SPIN, 0);
            MemorySegment out = arena.allocate(4096);
            region.copyOut(0, out, 4096); // returns: the failed handler closed the uffd
            assertNotNull(h.failure());
            assertTrue(h.failure().getMessage().contains("UFFDIO_MOVE") && h.failure().getMessage().contains("EINVAL"),
                    h.failure().getMessage());
            h.close();
            for (Thread t : h.threads()) {
                assertFalse(t.isAlive(), "no handler thread is left running");
            }
        }
    }

    @Test
    void removeEventsAreRecordedAndThePagesFaultAgain() throws Exception {
        try (PageSource source = PageSource.pattern(4096, 9); ResolvePolicy policy = ResolvePolicy.of(ResolveIoctl.COPY, source);
             Region region = Region.map(Backend.ANON, PAGES * 4096L); Arena arena = Arena.ofConfined()) {
            List<HandledRegion> regions = List.of(new HandledRegion(0, "ram", region, policy, null));
            UffdHandler h = new UffdHandler(Userfaultfd.open(UffdHandler.features(regions)), regions, 1, WaitStrategy.SPIN, 256);
            try (h) {
                MemorySegment out = arena.allocate(region.length());
                region.copyOut(0, out, region.length());
                assertEquals(0, dev.faultline.core.abi.Libc.madvise(region.address(), region.length(),
                        dev.faultline.core.abi.MmanAbi.MADV_DONTNEED));
                region.copyOut(0, out, region.length());
            }
            assertEquals(2 * PAGES, h.faults());
            RecordRing ring = h.rings().get(0);
            TraceEvent e = new TraceEvent();
            int removes = 0;
            while (ring.peek(e)) {
                if (e.kind == EventKind.REMOVE) {
                    removes++;
                    assertEquals(region.length(), e.resolveLength);
                    assertEquals(0, e.offset);
                }
                ring.advance();
            }
            assertEquals(1, removes);
        }
    }

    @Test
    void aRemappedRegionIsFollowedAndAnUnmapMarksItGone() throws Exception {
        long len = PAGES * 4096L;
        try (PageSource source = PageSource.pattern(4096, 3); ResolvePolicy policy = ResolvePolicy.of(ResolveIoctl.COPY, source);
             Region region = Region.map(Backend.ANON, len); Region target = Region.map(Backend.ANON, len);
             Arena arena = Arena.ofConfined()) {
            HandledRegion handled = new HandledRegion(0, "ram", region, policy, null);
            List<HandledRegion> regions = List.of(handled);
            UffdHandler h = new UffdHandler(Userfaultfd.open(UffdHandler.features(regions)), regions, 1, WaitStrategy.SPIN, 256);
            try (h) {
                MemorySegment out = arena.allocate(len);
                region.copyOut(0, out, len / 2); // the first half is present and moves with the mapping
                long moved = dev.faultline.core.abi.Libc.mremap(region.address(), len, len,
                        dev.faultline.core.abi.MmanAbi.MREMAP_MAYMOVE | dev.faultline.core.abi.MmanAbi.MREMAP_FIXED, target.address());
                assertEquals(target.address(), moved);
                placeholder(region.address(), len); // so that closing the Region unmaps only what is ours
                assertEquals(target.address(), handled.base(), "the handler follows the REMAP event");
                dev.faultline.core.abi.Libc.memcpy(out.address(), moved, len); // the second half faults at the new address
                assertEquals(3, out.get(JAVA_BYTE, len - 1));
                assertEquals(0, dev.faultline.core.abi.Libc.munmap(moved, len));
                placeholder(moved, len);
                long deadline = System.nanoTime() + 5_000_000_000L;
                while (!handled.unmapped() && System.nanoTime() < deadline) {
                    Thread.sleep(1);
                }
                assertTrue(handled.unmapped(), "UNMAP of the whole region marks it gone");
            }
            assertEquals(PAGES, h.faults());
            assertNull(h.failure());
        }
    }

    /** Maps PROT_NONE over a range that was just vacated, failing rather than replacing anything. */
    private static void placeholder(long address, long length) {
        long a = dev.faultline.core.abi.Libc.mmap(address, length, dev.faultline.core.abi.MmanAbi.PROT_NONE,
                dev.faultline.core.abi.MmanAbi.MAP_PRIVATE | dev.faultline.core.abi.MmanAbi.MAP_ANONYMOUS
                        | dev.faultline.core.abi.MmanAbi.MAP_FIXED_NOREPLACE, -1, 0);
        assertEquals(address, a, "placeholder over the vacated range");
    }

    @Test
    void aForkedChildsUffdIsClosedAndTheForkRecorded() throws Exception {
        try (PageSource source = PageSource.pattern(4096, 3); ResolvePolicy policy = ResolvePolicy.of(ResolveIoctl.COPY, source);
             Region region = Region.map(Backend.ANON, PAGES * 4096L); Arena arena = Arena.ofConfined()) {
            List<HandledRegion> regions = List.of(new HandledRegion(0, "ram", region, policy, null));
            UffdHandler h = new UffdHandler(Userfaultfd.open(UffdHandler.features(regions)), regions, 1, WaitStrategy.SPIN, 256);
            try (h) {
                int pid = dev.faultline.core.abi.Libc.fork(); // returns in the parent once the handler read FORK
                if (pid == 0) {
                    dev.faultline.core.abi.Libc.exit(0);
                }
                assertTrue(pid > 0, "fork: " + pid);
                dev.faultline.core.abi.Libc.kill(pid, dev.faultline.core.abi.MmanAbi.SIGKILL); // see Libc.fork
                MemorySegment status = arena.allocate(8);
                assertEquals(pid, dev.faultline.core.abi.Libc.waitpid(pid, status.address(), 0));
                MemorySegment out = arena.allocate(4096);
                region.copyOut(0, out, 4096); // the parent's faults are still served
            }
            assertNull(h.failure());
            assertEquals(1, h.faults());
            TraceEvent e = new TraceEvent();
            int forks = 0;
            while (h.rings().get(0).peek(e)) {
                forks += e.kind == EventKind.FORK ? 1 : 0;
                h.rings().get(0).advance();
            }
            assertEquals(1, forks);
        }
    }
}
