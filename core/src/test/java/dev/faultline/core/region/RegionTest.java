package dev.faultline.core.region;

import dev.faultline.core.abi.KernelException;
import dev.faultline.core.abi.Libc;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class RegionTest {
    static void assumeAvailable(Backend b) {
        if (b.isHugetlb()) {
            assumeTrue(HugePages.free(b.pageSize()) >= 1, "no free " + b.label() + " huge page; reserve with: "
                    + HugePages.reserveHint(b.pageSize(), b == Backend.HUGETLB_1G ? 1 : 64));
        }
        if (b == Backend.GUEST_MEMFD) {
            String why = Region.guestMemfdUnavailable();
            assumeTrue(why == null, () -> "guest_memfd cannot be mapped here: " + why);
        }
    }

    /**
     * Whether any mapping in /proc/self/maps covers {@code address}. A range check, not a match on
     * the start: the kernel merges an anonymous mapping with a neighbour of the same flags, so the
     * line that covers a fresh region may begin below it.
     */
    private static boolean mapped(long address) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/maps"))) {
            int dash = line.indexOf('-');
            int space = line.indexOf(' ', dash);
            long start = Long.parseUnsignedLong(line, 0, dash, 16);
            long end = Long.parseUnsignedLong(line, dash + 1, space, 16);
            if (Long.compareUnsigned(address, start) >= 0 && Long.compareUnsigned(address, end) < 0) {
                return true;
            }
        }
        return false;
    }

    @ParameterizedTest
    @EnumSource(Backend.class)
    void mapsWithItsPageSizeAndUnmapsCleanly(Backend b) throws IOException {
        assumeAvailable(b);
        Region r = Region.map(b, b.pageSize());
        try (r; Arena arena = Arena.ofConfined()) {
            assertEquals(b.pageSize(), r.pageSize());
            assertEquals(1, r.pages());
            assertEquals(0, r.address() % b.pageSize(), "aligned to its page size");
            assertTrue(mapped(r.address()));
            r.fill(0, 0x2a, 4096);
            MemorySegment out = arena.allocate(1);
            r.copyOut(4095, out, 1);
            assertEquals(0x2a, out.get(JAVA_BYTE, 0));
            if (b.isFileBacked()) {
                MemorySegment viaAlias = arena.allocate(1);
                Libc.memcpy(viaAlias.address(), r.alias() + 4095, 1);
                assertEquals(0x2a, viaAlias.get(JAVA_BYTE, 0), "the alias shows the same file");
            } else {
                assertThrows(UnsupportedOperationException.class, r::alias);
            }
        }
        assertFalse(mapped(r.address()), "unmapped after close");
    }

    @Test
    void refusesLengthsThatAreNotWholePages() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Region.map(Backend.HUGETLB_2M, 4096));
        assertEquals("hugetlb2m region length 4096 is not a positive multiple of its page size 2097152", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Region.map(Backend.ANON, 0));
    }

    @Test
    void tooManyHugePagesIsEnomemWithTheFix() {
        long free = HugePages.free(Backend.HUGETLB_2M.pageSize());
        KernelException e = assertThrows(KernelException.class,
                () -> Region.map(Backend.HUGETLB_2M, (free + 1) * Backend.HUGETLB_2M.pageSize()));
        assertEquals("ENOMEM", e.errnoName());
        assertTrue(e.getMessage().contains("nr_hugepages"), e.getMessage());
    }

    @Test
    void parsesUserNames() {
        assertEquals(Backend.HUGETLB_2M, Backend.parse("hugetlb2m"));
        assertEquals(Backend.GUEST_MEMFD, Backend.parse("guest-memfd"));
        assertEquals(Backend.HUGETLB_1G, Backend.fromTrace("hugetlb", 1L << 30));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Backend.parse("pmem")).getMessage()
                .contains("expected anon, shmem"));
    }
}
