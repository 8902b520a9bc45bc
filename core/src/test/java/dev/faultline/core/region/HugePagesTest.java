package dev.faultline.core.region;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The hint a refused hugetlb run prints, against this machine's own pools in /sys/kernel/mm/hugepages. */
class HugePagesTest {
    @Test
    void theHintSetsThePoolSoThatThePagesAskedForAreFree() {
        long page = 2L << 20;
        Long total = HugePages.total().get(page);
        if (total == null) {
            assertTrue(HugePages.reserveHint(page, 4).startsWith("not on this kernel: it has no pool of 2 MiB pages"));
            return;
        }
        long inUse = total - HugePages.free(page);
        assertEquals("echo " + (inUse + 4) + " > /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages", HugePages.reserveHint(page, 4));
    }

    @Test
    void aSizeThisKernelHasNoPoolForIsSaidToBeImpossibleNotGivenAnEcho() {
        long page = 16L << 30; // no x86-64 kernel has 16 GiB pages
        String hint = HugePages.reserveHint(page, 1);
        assertTrue(hint.startsWith("not on this kernel: it has no pool of 16 GiB pages (no /sys/kernel/mm/hugepages/hugepages-16777216kB"), hint);
    }
}
