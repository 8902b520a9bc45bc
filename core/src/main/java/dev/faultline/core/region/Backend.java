package dev.faultline.core.region;

import java.util.Locale;

/**
 * The kind of memory a region is made of, with its page size. {@link #label()} is the name users
 * type and the probe prints ({@code hugetlb2m}); {@link #traceName()} is the trace's
 * {@code backend} column, where the page size has a column of its own ({@code hugetlb}).
 */
public enum Backend {
    /** Private anonymous memory (MAP_PRIVATE|MAP_ANONYMOUS), 4 KiB pages. */
    ANON("anon", "anon", 4096),
    /** A memfd (shmem) mapped MAP_SHARED, 4 KiB pages. */
    SHMEM("shmem", "shmem", 4096),
    /** A hugetlb memfd with 2 MiB pages. */
    HUGETLB_2M("hugetlb2m", "hugetlb", 2L << 20),
    /** A hugetlb memfd with 1 GiB pages. */
    HUGETLB_1G("hugetlb1g", "hugetlb", 1L << 30),
    /** A KVM guest_memfd created mmap-able (GUEST_MEMFD_FLAG_MMAP|INIT_SHARED), 4 KiB pages. */
    GUEST_MEMFD("guest_memfd", "guest_memfd", 4096);

    private final String label;
    private final String traceName;
    private final long pageSize;

    Backend(String label, String traceName, long pageSize) {
        this.label = label;
        this.traceName = traceName;
        this.pageSize = pageSize;
    }

    /** The name users type and the probe prints. */
    public String label() {
        return label;
    }

    /** The value of the trace's {@code backend} column. */
    public String traceName() {
        return traceName;
    }

    /** Page size in bytes. */
    public long pageSize() {
        return pageSize;
    }

    /** Whether the memory is hugetlb. */
    public boolean isHugetlb() {
        return this == HUGETLB_2M || this == HUGETLB_1G;
    }

    /** Whether the memory lives in a file (and so can be given a second, alias mapping). */
    public boolean isFileBacked() {
        return this != ANON;
    }

    /**
     * The backend for a user's name ({@code hugetlb2m}), or for a trace's backend column plus
     * page size.
     *
     * @throws IllegalArgumentException naming the accepted values
     */
    public static Backend parse(String name) {
        String n = name.toLowerCase(Locale.ROOT).replace('-', '_');
        for (Backend b : values()) {
            if (b.label.equals(n)) {
                return b;
            }
        }
        throw new IllegalArgumentException("unknown backend '" + name
                + "' (expected anon, shmem, hugetlb2m, hugetlb1g or guest_memfd)");
    }

    /** The backend a trace row names by its backend column and page size. */
    public static Backend fromTrace(String traceName, long pageSize) {
        for (Backend b : values()) {
            if (b.traceName.equals(traceName) && b.pageSize == pageSize) {
                return b;
            }
        }
        throw new IllegalArgumentException("no backend '" + traceName + "' with " + pageSize + "-byte pages");
    }
}
