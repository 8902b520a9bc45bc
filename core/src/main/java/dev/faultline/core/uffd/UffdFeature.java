package dev.faultline.core.uffd;

import java.util.ArrayList;
import java.util.List;

/**
 * The userfaultfd feature bits ({@code UFFD_FEATURE_*}) this code knows, named as the kernel
 * names them without the prefix. A kernel may report bits that are not listed here;
 * {@link #names(long)} shows them as {@code bit N} rather than dropping them.
 */
public enum UffdFeature {
    PAGEFAULT_FLAG_WP(0),
    EVENT_FORK(1),
    EVENT_REMAP(2),
    EVENT_REMOVE(3),
    MISSING_HUGETLBFS(4),
    MISSING_SHMEM(5),
    EVENT_UNMAP(6),
    SIGBUS(7),
    THREAD_ID(8),
    MINOR_HUGETLBFS(9),
    MINOR_SHMEM(10),
    EXACT_ADDRESS(11),
    WP_HUGETLBFS_SHMEM(12),
    WP_UNPOPULATED(13),
    POISON(14),
    WP_ASYNC(15),
    MOVE(16);

    private final int bit;

    UffdFeature(int bit) {
        this.bit = bit;
    }

    /** The feature's bit in {@code uffdio_api.features}. */
    public long mask() {
        return 1L << bit;
    }

    /** Whether {@code features} has this feature's bit. */
    public boolean in(long features) {
        return (features & mask()) != 0;
    }

    /** The mask of the given features. */
    public static long maskOf(UffdFeature... features) {
        long m = 0;
        for (UffdFeature f : features) {
            m |= f.mask();
        }
        return m;
    }

    /** Every set bit of {@code features} by name, unknown bits as {@code "bit N"}. */
    public static List<String> names(long features) {
        List<String> out = new ArrayList<>();
        UffdFeature[] known = values();
        for (int bit = 0; bit < 64; bit++) {
            if ((features & (1L << bit)) == 0) {
                continue;
            }
            String name = "bit " + bit;
            for (UffdFeature f : known) {
                if (f.bit == bit) {
                    name = f.name();
                }
            }
            out.add(name);
        }
        return out;
    }
}
