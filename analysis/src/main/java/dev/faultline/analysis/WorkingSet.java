package dev.faultline.analysis;

import java.util.BitSet;
import java.util.Map;
import java.util.TreeMap;

/**
 * The pages a trace faulted: per region a bit per page (bounded by the region's size, not by the
 * trace's length), how many faults hit a page that had faulted before (re-faults: REMOVE'd pages,
 * races, WP after MISSING), and each thread's share of the faults.
 */
public final class WorkingSet {
    private final Map<Integer, BitSet> pages = new TreeMap<>();
    private final Map<Integer, Long> byThread = new TreeMap<>();
    private long faults;
    private long refaults;

    /** Counts a fault on page {@code page} (index in its region) of region {@code region} by thread {@code tid}. */
    void add(int region, long page, int tid) {
        faults++;
        BitSet b = pages.computeIfAbsent(region, r -> new BitSet());
        int p = (int) Math.min(page, Integer.MAX_VALUE - 1);
        if (b.get(p)) {
            refaults++;
        } else {
            b.set(p);
        }
        byThread.merge(tid, 1L, Long::sum);
    }

    /** Distinct pages faulted, over all regions. */
    public long uniquePages() {
        long n = 0;
        for (BitSet b : pages.values()) {
            n += b.cardinality();
        }
        return n;
    }

    public long faults() {
        return faults;
    }

    /** Faults on a page that had faulted before. */
    public long refaults() {
        return refaults;
    }

    /** Faults per recorded thread id. */
    public Map<Integer, Long> byThread() {
        return Map.copyOf(byThread);
    }

    /**
     * Jaccard similarity of two working sets: |A ∩ B| / |A ∪ B| over (region, page) pairs, 1 for two
     * empty sets. Whether a record-and-prefetch system can trust yesterday's set today.
     */
    public double jaccard(WorkingSet other) {
        long inter = 0;
        long union = 0;
        java.util.Set<Integer> regions = new java.util.TreeSet<>(pages.keySet());
        regions.addAll(other.pages.keySet());
        for (int r : regions) {
            BitSet a = pages.getOrDefault(r, new BitSet());
            BitSet b = other.pages.getOrDefault(r, new BitSet());
            BitSet i = (BitSet) a.clone();
            i.and(b);
            BitSet u = (BitSet) a.clone();
            u.or(b);
            inter += i.cardinality();
            union += u.cardinality();
        }
        return union == 0 ? 1 : (double) inter / union;
    }
}
