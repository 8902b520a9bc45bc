package dev.faultline.core.uffd;

import dev.faultline.core.abi.Errno;
import dev.faultline.core.abi.KernelException;
import dev.faultline.core.abi.Libc;
import dev.faultline.core.abi.UffdAbi;
import dev.faultline.core.region.Backend;
import dev.faultline.core.region.HugePages;
import dev.faultline.core.region.Region;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicInteger;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Real userfaultfds against real memory: every open path and every ioctl on multi-page regions. */
class UserfaultfdTest {
    static final int PAGES = 16;

    static void assumeBackend(Backend b) {
        if (b.isHugetlb()) {
            assumeTrue(HugePages.free(b.pageSize()) >= PAGES + 1, "needs " + (PAGES + 1) + " free "
                    + b.label() + " huge pages; reserve with: " + HugePages.reserveHint(b.pageSize(), 64));
        }
    }

    @ParameterizedTest
    @EnumSource(Userfaultfd.OpenedVia.class)
    void opensEveryWayAndNegotiatesFeatures(Userfaultfd.OpenedVia via) {
        long wanted = UffdFeature.maskOf(UffdFeature.THREAD_ID, UffdFeature.MISSING_SHMEM);
        try (Userfaultfd u = Userfaultfd.open(wanted, via)) {
            assertEquals(via, u.openedVia());
            assertTrue(u.has(UffdFeature.THREAD_ID));
            assertTrue(u.fd() >= 0);
        }
    }

    @Test
    void supportedFeaturesIncludeEverythingThroughMove() {
        long f = Userfaultfd.supportedFeatures();
        for (UffdFeature feature : UffdFeature.values()) {
            assertTrue(feature.in(f), feature + " missing from 0x" + Long.toHexString(f));
        }
    }

    @Test
    void unknownFeatureBitsAreNamedNotDropped() {
        assertEquals(java.util.List.of("THREAD_ID", "bit 40"),
                UffdFeature.names(UffdFeature.THREAD_ID.mask() | (1L << 40)));
    }

    @Test
    void requestingAnUnknownFeatureIsRefusedWithTheErrno() {
        KernelException e = assertThrows(KernelException.class, () -> Userfaultfd.open(1L << 60));
        assertEquals(Errno.EINVAL, e.errno());
        assertTrue(e.getMessage().startsWith("UFFDIO_API features=bit 60"), e.getMessage());
    }

    @ParameterizedTest
    @EnumSource(value = Backend.class, names = {"ANON", "SHMEM", "HUGETLB_2M"})
    void copyFillsEveryPage(Backend b) throws Exception {
        assumeBackend(b);
        long page = b.pageSize();
        try (Arena arena = Arena.ofShared(); Region r = Region.map(b, PAGES * page);
             Userfaultfd u = Userfaultfd.open(UffdFeature.maskOf(UffdFeature.THREAD_ID))) {
            Registration reg = u.register(r.address(), r.length(), UffdAbi.UFFDIO_REGISTER_MODE_MISSING);
            assertTrue(reg.supports(ResolveIoctl.COPY));
            MemorySegment src = arena.allocate(page, 4096);
            AtomicInteger tid = new AtomicInteger();
            try (MessagePump pump = new MessagePump(u, m -> {
                UffdMessage.PageFault f = (UffdMessage.PageFault) m;
                long index = (f.address() - r.address()) / page;
                tid.set(f.tid());
                src.fill((byte) (index + 1));
                long rc = u.copy(f.address() & -page, src.address(), page, 0);
                assertEquals(page, rc);
            })) {
                MemorySegment out = arena.allocate(r.length(), 4096);
                r.copyOut(0, out, r.length()); // faults on every page from native code
                for (int i = 0; i < PAGES; i++) {
                    assertEquals((byte) (i + 1), out.get(JAVA_BYTE, i * page));
                    assertEquals((byte) (i + 1), out.get(JAVA_BYTE, i * page + page - 1));
                }
                assertEquals(PAGES, pump.messages.size());
                assertEquals(Libc.gettid(), tid.get(), "fault reports the faulting thread");
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = Backend.class, names = {"ANON", "SHMEM"})
    void zeropageMapsZeroes(Backend b) throws Exception {
        try (Arena arena = Arena.ofShared(); Region r = Region.map(b, PAGES * b.pageSize());
             Userfaultfd u = Userfaultfd.open(0)) {
            u.register(r.address(), r.length(), UffdAbi.UFFDIO_REGISTER_MODE_MISSING);
            try (MessagePump pump = new MessagePump(u, m -> u.zeropage(((UffdMessage.PageFault) m).address()
                    & -b.pageSize(), b.pageSize(), 0))) {
                MemorySegment out = arena.allocate(r.length());
                out.fill((byte) 7);
                r.copyOut(0, out, r.length());
                for (long i = 0; i < r.length(); i += 512) {
                    assertEquals(0, out.get(JAVA_BYTE, i));
                }
                assertEquals(PAGES, pump.messages.size());
            }
        }
    }

    @Test
    void zeropageOnHugetlbIsEinvalAndNamesTheRange() {
        assumeBackend(Backend.HUGETLB_2M);
        try (Region r = Region.map(Backend.HUGETLB_2M, Backend.HUGETLB_2M.pageSize());
             Userfaultfd u = Userfaultfd.open(0)) {
            u.register(r.address(), r.length(), UffdAbi.UFFDIO_REGISTER_MODE_MISSING);
            KernelException e = assertThrows(KernelException.class, () -> u.zeropage(r.address(), r.length(), 0));
            assertEquals("EINVAL", e.errnoName());
            assertTrue(e.getMessage().contains("UFFDIO_ZEROPAGE [0x" + Long.toHexString(r.address())), e.getMessage());
        }
    }

    @ParameterizedTest
    @EnumSource(value = Backend.class, names = {"SHMEM", "HUGETLB_2M"})
    void continueMapsThePageCache(Backend b) throws Exception {
        assumeBackend(b);
        long page = b.pageSize();
        try (Arena arena = Arena.ofShared(); Region r = Region.map(b, PAGES * page);
             Userfaultfd u = Userfaultfd.open(UffdFeature.maskOf(UffdFeature.MINOR_SHMEM, UffdFeature.MINOR_HUGETLBFS))) {
            Libc.memset(r.alias(), 0x3c, r.length());
            u.register(r.address(), r.length(), UffdAbi.UFFDIO_REGISTER_MODE_MINOR);
            try (MessagePump pump = new MessagePump(u, m -> {
                UffdMessage.PageFault f = (UffdMessage.PageFault) m;
                assertEquals(UffdAbi.UFFD_PAGEFAULT_FLAG_MINOR, f.flags() & UffdAbi.UFFD_PAGEFAULT_FLAG_MINOR);
                assertEquals(page, u.continueMinor(f.address() & -page, page, 0));
            })) {
                MemorySegment out = arena.allocate(r.length());
                r.copyOut(0, out, r.length());
                assertEquals(0x3c, out.get(JAVA_BYTE, r.length() - 1));
                assertEquals(PAGES, pump.messages.size());
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = Backend.class, names = {"ANON", "SHMEM", "HUGETLB_2M"})
    void writeProtectFaultsAreResolvedByUnprotecting(Backend b) throws Exception {
        assumeBackend(b);
        long page = b.pageSize();
        try (Arena arena = Arena.ofShared(); Region r = Region.map(b, PAGES * page);
             Userfaultfd u = Userfaultfd.open(UffdFeature.maskOf(UffdFeature.WP_HUGETLBFS_SHMEM))) {
            r.fill(0, 1, r.length());
            u.register(r.address(), r.length(), UffdAbi.UFFDIO_REGISTER_MODE_WP);
            u.writeProtect(r.address(), r.length(), UffdAbi.UFFDIO_WRITEPROTECT_MODE_WP);
            try (MessagePump pump = new MessagePump(u, m -> {
                UffdMessage.PageFault f = (UffdMessage.PageFault) m;
                assertEquals(UffdAbi.UFFD_PAGEFAULT_FLAG_WP | UffdAbi.UFFD_PAGEFAULT_FLAG_WRITE, f.flags() & 3);
                u.writeProtect(f.address() & -page, page, 0);
            })) {
                r.fill(0, 9, r.length());
                MemorySegment out = arena.allocate(r.length());
                r.copyOut(0, out, r.length());
                assertEquals(9, out.get(JAVA_BYTE, r.length() - 1));
                assertEquals(PAGES, pump.messages.size());
            }
        }
    }

    @Test
    void moveTakesPagesFromAnonSource() throws Exception {
        long page = 4096;
        try (Arena arena = Arena.ofShared(); Region r = Region.map(Backend.ANON, PAGES * page);
             Region src = Region.map(Backend.ANON, PAGES * page);
             Userfaultfd u = Userfaultfd.open(UffdFeature.maskOf(UffdFeature.MOVE))) {
            src.fill(0, 0x77, src.length());
            u.register(r.address(), r.length(), UffdAbi.UFFDIO_REGISTER_MODE_MISSING);
            try (MessagePump pump = new MessagePump(u, m -> {
                long dst = ((UffdMessage.PageFault) m).address() & -page;
                assertEquals(page, u.move(dst, src.address() + (dst - r.address()), page, 0));
            })) {
                MemorySegment out = arena.allocate(r.length());
                r.copyOut(0, out, r.length());
                assertEquals(0x77, out.get(JAVA_BYTE, 5 * page + 17));
                assertEquals(PAGES, pump.messages.size());
            }
            MemorySegment back = arena.allocate(page);
            back.fill((byte) 1);
            src.copyOut(0, back, page); // moved away: the source reads as a fresh zero page
            assertEquals(0, back.get(JAVA_BYTE, 0));
        }
    }

    @Test
    void moveOntoShmemIsEinval() {
        try (Region r = Region.map(Backend.SHMEM, 4096); Region src = Region.map(Backend.ANON, 4096);
             Userfaultfd u = Userfaultfd.open(UffdFeature.maskOf(UffdFeature.MOVE, UffdFeature.MISSING_SHMEM))) {
            src.fill(0, 1, 4096);
            u.register(r.address(), r.length(), UffdAbi.UFFDIO_REGISTER_MODE_MISSING);
            assertEquals(Errno.EINVAL, assertThrows(KernelException.class,
                    () -> u.move(r.address(), src.address(), 4096, 0)).errno());
        }
    }

    @Test
    void poisonedPageFailsKernelAccessWithEfault() throws Exception {
        try (Arena arena = Arena.ofShared(); Region r = Region.map(Backend.SHMEM, 4096);
             Userfaultfd u = Userfaultfd.open(UffdFeature.maskOf(UffdFeature.POISON), Userfaultfd.OpenedVia.SYSCALL)) {
            u.register(r.address(), r.length(), UffdAbi.UFFDIO_REGISTER_MODE_MISSING);
            // Poison ahead of any fault; a kernel-mode read of the page then fails instead of faulting.
            assertEquals(4096, u.poison(r.address(), 4096, 0));
            MemorySegment fds = arena.allocate(8);
            assertEquals(0, Libc.pipe2(fds.address(), 0));
            int w = fds.get(java.lang.foreign.ValueLayout.JAVA_INT, 4);
            try {
                assertEquals(-Errno.EFAULT, Libc.write(w, r.address(), 1));
            } finally {
                Libc.close(fds.get(java.lang.foreign.ValueLayout.JAVA_INT, 0));
                Libc.close(w);
            }
        }
    }

    @Test
    void eexistIsReportedNotThrownAndDontwakeNeedsWake() throws Exception {
        long page = 4096;
        try (Arena arena = Arena.ofShared(); Region r = Region.map(Backend.ANON, page);
             Userfaultfd u = Userfaultfd.open(0)) {
            u.register(r.address(), r.length(), UffdAbi.UFFDIO_REGISTER_MODE_MISSING);
            MemorySegment src = arena.allocate(page, 4096);
            src.fill((byte) 4);
            Thread toucher = Thread.ofPlatform().start(() -> {
                try (Arena a = Arena.ofConfined()) {
                    r.copyOut(0, a.allocate(1), 1);
                }
            });
            assertTrue(u.awaitReadable(5_000));
            UffdMessageBuffer buf = new UffdMessageBuffer(arena, 4);
            assertEquals(1, u.read(buf));
            assertEquals(UffdEvent.PAGEFAULT, buf.event(0));
            assertEquals(page, u.copy(r.address(), src.address(), page, UffdAbi.UFFDIO_COPY_MODE_DONTWAKE));
            assertEquals(-Errno.EEXIST, u.copy(r.address(), src.address(), page, 0));
            toucher.join(200);
            assertTrue(toucher.isAlive(), "DONTWAKE left the faulting thread asleep");
            u.wake(r.address(), page);
            toucher.join(5_000);
            assertTrue(!toucher.isAlive(), "UFFDIO_WAKE woke it");
        }
    }

    @Test
    void closingTheUffdReleasesAWaitingThread() throws Exception {
        try (Region r = Region.map(Backend.ANON, 4096)) {
            Userfaultfd u = Userfaultfd.open(0);
            u.register(r.address(), r.length(), UffdAbi.UFFDIO_REGISTER_MODE_MISSING);
            Thread toucher = Thread.ofPlatform().start(() -> r.fill(0, 1, 1));
            assertTrue(u.awaitReadable(5_000));
            u.close();
            toucher.join(5_000);
            assertTrue(!toucher.isAlive());
        }
    }

    @Test
    void registerErrorsNameModeRangeAndErrno() {
        try (Region r = Region.map(Backend.ANON, 4096); Userfaultfd u = Userfaultfd.open(0)) {
            KernelException e = assertThrows(KernelException.class,
                    () -> u.register(r.address(), r.length(), UffdAbi.UFFDIO_REGISTER_MODE_MINOR));
            assertEquals("UFFDIO_REGISTER [0x" + Long.toHexString(r.address()) + ", +4096) mode=MINOR: EINVAL",
                    e.getMessage());
        }
    }
}
