package dev.faultline.analysis;

import java.util.Comparator;

/**
 * What faults are grouped by: the resolving ioctl, the page size and the backend, and optionally
 * one more dimension ({@link By}) whose value is {@link #part} ("" when not split). A JMH result
 * is keyed by its benchmark in place of the ioctl, page size 0 and backend {@code jmh}.
 */
public record GroupKey(String ioctl, long pageSize, String backend, String part) implements Comparable<GroupKey> {
    private static final Comparator<GroupKey> ORDER = Comparator.comparing(GroupKey::ioctl)
            .thenComparingLong(GroupKey::pageSize).thenComparing(GroupKey::backend).thenComparing(GroupKey::part);

    /** {@code COPY 4K shmem} or {@code COPY 4K shmem run=2}. */
    public String label() {
        return ioctl + (pageSize > 0 ? " " + Format.pageSize(pageSize) : "") + " " + backend + (part.isEmpty() ? "" : " " + part);
    }

    /** A file-name-safe form of the label. */
    public String slug() {
        return label().replaceAll("[^A-Za-z0-9]+", "-").toLowerCase(java.util.Locale.ROOT);
    }

    @Override
    public int compareTo(GroupKey o) {
        return ORDER.compare(this, o);
    }
}
