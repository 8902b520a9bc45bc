package dev.faultline.collector.workload;

import java.util.Locale;

/** The built-in access patterns; {@link AccessPlan} turns one into per-thread page orders. */
public enum WorkloadKind {
    /** Every page once, in address order (each thread a contiguous slice). */
    SEQUENTIAL,
    /** Every page once, in a random order. */
    RANDOM,
    /** Every page once, in strides: 0, s, 2s, …, then 1, 1+s, … (a column walk). */
    STRIDED,
    /** Hot/cold: many touches drawn from a Zipf-like distribution; only first touches fault. */
    ZIPF,
    /** Snapshot restore: a working set (a quarter of the pages, in runs) touched in random order by a few threads. */
    RESTORE;

    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
