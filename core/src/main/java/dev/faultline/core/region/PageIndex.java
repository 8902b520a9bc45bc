package dev.faultline.core.region;

import java.util.Arrays;

/**
 * Where each page is in an ascending list of distinct page numbers (of one region): the lookup a
 * replay's handler makes for every fault and its faulting threads and writer for every touch.
 *
 * <p>When the pages span at most {@link #DENSE_SPAN} times their count (a trace of any workload
 * over its whole region), a table indexed by page answers in one load; otherwise a binary search
 * does. Either way {@link #find} allocates nothing.
 */
public final class PageIndex {
    /** The widest span, in pages per listed page, that gets a table (4 bytes per page spanned). */
    public static final int DENSE_SPAN = 4;

    private final long[] pages;
    private final long first;
    private final int[] positions; // positions[page - first] = index + 1, 0 where not listed; null: binary search

    /** An index of {@code sortedPages} (ascending, distinct; not copied, so do not change it afterwards). */
    public PageIndex(long[] sortedPages) {
        this.pages = sortedPages;
        int n = sortedPages.length;
        this.first = n > 0 ? sortedPages[0] : 0;
        long span = n > 0 ? sortedPages[n - 1] - first + 1 : 0;
        if (n > 0 && span <= (long) DENSE_SPAN * n && span <= Integer.MAX_VALUE) {
            positions = new int[(int) span];
            for (int i = 0; i < n; i++) {
                positions[(int) (sortedPages[i] - first)] = i + 1;
            }
        } else {
            positions = null;
        }
    }

    /** The index of {@code page} in the list, or -1. */
    public int find(long page) {
        if (positions != null) {
            long k = page - first;
            return k >= 0 && k < positions.length ? positions[(int) k] - 1 : -1;
        }
        int i = Arrays.binarySearch(pages, page);
        return i >= 0 ? i : -1;
    }

    /** Whether lookups go through the table (for tests). */
    boolean dense() {
        return positions != null;
    }
}
