package dev.faultline.analysis;

import java.util.BitSet;
import java.util.Map;
import java.util.TreeMap;

/**
 * The pages a trace faulted: per region a bit per page (bounded by the region's size, not by the
 * trace's length), how many faults hit a page that had faulted before (re-faults: REMOVE'd pages,
 * races, WP after MISSING), and each thread's share of the faults. Shares of one file merge.
 */
public final class WorkingSet {
    private final Map<Integer, BitSet> pages = new TreeMap<>();
    private BitSet[] byRegion = new BitSet[0]; // the same sets, by region id, for the per-row path
    private int[] tids = new int[8];           // faults per thread: a small open list, no boxing per row
    private long[] tidFaults = new long[8];
    private int threads;
    private int lastTid = -1;
    private long faults;

    /** Counts a fault on page {@code page} (index in its region) of region {@code region} by thread {@code tid}. */
    void add(int region, long page, int tid) {
        faults++;
        if (region < 0) {
            region = 0;
        }
        if (region >= byRegion.length) {
            byRegion = java.util.Arrays.copyOf(byRegion, region + 1);
        }
        BitSet b = byRegion[region];
        if (b == null) {
            b = new BitSet();
            byRegion[region] = b;
            pages.put(region, b);
        }
        b.set((int) Math.min(page, Integer.MAX_VALUE - 1));
        if (lastTid < 0 || tids[lastTid] != tid) {
            lastTid = indexOf(tid);
        }
        tidFaults[lastTid]++;
    }

    private int indexOf(int tid) {
        for (int i = 0; i < threads; i++) {
            if (tids[i] == tid) {
                return i;
            }
        }
        if (threads == tids.length) {
            tids = java.util.Arrays.copyOf(tids, threads * 2);
            tidFaults = java.util.Arrays.copyOf(tidFaults, threads * 2);
        }
        tids[threads] = tid;
        return threads++;
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

    /** Faults on a page that had faulted before: every fault beyond the first of its page. */
    public long refaults() {
        return faults - uniquePages();
    }

    /** Adds another share of the same file's faults. */
    void merge(WorkingSet o) {
        faults += o.faults;
        o.pages.forEach((region, set) -> {
            BitSet mine = pages.get(region);
            if (mine == null) {
                mine = new BitSet();
                pages.put(region, mine);
                if (region >= byRegion.length) {
                    byRegion = java.util.Arrays.copyOf(byRegion, region + 1);
                }
                byRegion[region] = mine;
            }
            mine.or(set);
        });
        for (int i = 0; i < o.threads; i++) {
            tidFaults[indexOf(o.tids[i])] += o.tidFaults[i];
        }
    }

    /** Faults per recorded thread id. */
    public Map<Integer, Long> byThread() {
        Map<Integer, Long> m = new TreeMap<>();
        for (int i = 0; i < threads; i++) {
            m.put(tids[i], tidFaults[i]);
        }
        return m;
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
