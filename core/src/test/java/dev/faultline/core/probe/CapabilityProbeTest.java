package dev.faultline.core.probe;

import dev.faultline.core.region.Backend;
import dev.faultline.core.region.HugePages;
import dev.faultline.core.uffd.RegisterMode;
import dev.faultline.core.uffd.ResolveIoctl;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The probe against this kernel: the kernel facts of docs/design.md §4, each proven by a resolved fault. */
class CapabilityProbeTest {
    private static ProbeCell cell(ProbeReport r, Backend b, RegisterMode m, ResolveIoctl op) {
        return r.cells().stream().filter(c -> c.backend() == b && c.mode() == m && c.ioctl() == op)
                .findFirst().orElseThrow();
    }

    @Test
    void matrixMatchesTheKernelFacts() {
        List<Backend> backends = new ArrayList<>(List.of(Backend.ANON, Backend.SHMEM, Backend.GUEST_MEMFD));
        boolean huge = HugePages.free(Backend.HUGETLB_2M.pageSize()) >= 2;
        if (huge) {
            backends.add(Backend.HUGETLB_2M);
        } else {
            System.err.println("SKIPPED hugetlb2m probe cells: no free 2M huge pages ("
                    + HugePages.reserveHint(Backend.HUGETLB_2M.pageSize(), 64) + ")");
        }
        boolean gig = HugePages.free(Backend.HUGETLB_1G.pageSize()) >= 1;
        if (gig) {
            backends.add(Backend.HUGETLB_1G);
        } else {
            System.err.println("SKIPPED hugetlb1g probe cells: no free 1G huge pages ("
                    + HugePages.reserveHint(Backend.HUGETLB_1G.pageSize(), 2) + ")");
        }
        List<String> progress = new ArrayList<>();
        ProbeReport r = new CapabilityProbe().run(backends, progress::add);
        assertEquals(backends.stream().map(Backend::label).toList(), progress);
        assertEquals(backends.size() * 3 * 6, r.cells().size());

        for (ResolveIoctl op : List.of(ResolveIoctl.COPY, ResolveIoctl.ZEROPAGE, ResolveIoctl.MOVE, ResolveIoctl.POISON)) {
            assertTrue(cell(r, Backend.ANON, RegisterMode.MISSING, op).supported(), "anon MISSING " + op);
        }
        assertTrue(cell(r, Backend.ANON, RegisterMode.WP, ResolveIoctl.WRITEPROTECT).supported());
        assertTrue(cell(r, Backend.SHMEM, RegisterMode.MISSING, ResolveIoctl.COPY).supported());
        assertTrue(cell(r, Backend.SHMEM, RegisterMode.MINOR, ResolveIoctl.CONTINUE).supported());
        assertTrue(cell(r, Backend.SHMEM, RegisterMode.WP, ResolveIoctl.WRITEPROTECT).supported());
        ProbeCell shmemMove = cell(r, Backend.SHMEM, RegisterMode.MISSING, ResolveIoctl.MOVE);
        assertEquals("EINVAL", shmemMove.errno(), "MOVE is anon-only");
        assertEquals(ProbeCell.Stage.RESOLVE, shmemMove.stage());
        ProbeCell anonMinor = cell(r, Backend.ANON, RegisterMode.MINOR, ResolveIoctl.CONTINUE);
        assertEquals(ProbeCell.Stage.REGISTER, anonMinor.stage());
        assertEquals("EINVAL", anonMinor.errno());
        if (huge) {
            ProbeCell z = cell(r, Backend.HUGETLB_2M, RegisterMode.MISSING, ResolveIoctl.ZEROPAGE);
            assertEquals("EINVAL", z.errno(), "no ZEROPAGE on hugetlb");
            assertTrue(cell(r, Backend.HUGETLB_2M, RegisterMode.MISSING, ResolveIoctl.COPY).supported());
            assertTrue(cell(r, Backend.HUGETLB_2M, RegisterMode.MINOR, ResolveIoctl.CONTINUE).supported());
        }
        if (gig) {
            assertEquals("EINVAL", cell(r, Backend.HUGETLB_1G, RegisterMode.MISSING, ResolveIoctl.ZEROPAGE).errno());
            assertTrue(cell(r, Backend.HUGETLB_1G, RegisterMode.MISSING, ResolveIoctl.COPY).supported());
            assertTrue(cell(r, Backend.HUGETLB_1G, RegisterMode.MINOR, ResolveIoctl.CONTINUE).supported());
            assertTrue(cell(r, Backend.HUGETLB_1G, RegisterMode.WP, ResolveIoctl.WRITEPROTECT).supported());
        }
        for (ProbeCell c : r.cells()) {
            if (c.supported()) {
                assertNull(c.errno());
            } else {
                assertTrue(c.detail() != null && !c.detail().isBlank(), "every refusal says why: " + c);
            }
        }
        assertTrue(r.featureNames().contains("MOVE"));
    }
}
