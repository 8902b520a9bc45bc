package dev.faultline.collector.touch;

import java.util.Arrays;

/**
 * What one faulting thread does, in order: touch k is page {@link #page(int) page(k)} of region
 * {@link #region(int) region(k)}, made as {@link #kind(int) kind(k)}, no earlier than
 * {@link #due(int) due(k)} nanoseconds after the thread starts (0 for "at once").
 *
 * <p>Built once before the run ({@link #add}); read without allocation by a {@link Toucher}.
 * Arrays grow by doubling while building and are trimmed by {@link #seal}.
 */
public final class TouchScript {
    private static final TouchKind[] KINDS = TouchKind.values();

    private int[] regions = new int[16];
    private int[] pages = new int[16];
    private byte[] kinds = new byte[16];
    private long[] due = new long[16];
    private int size;
    private boolean paced;

    /**
     * The script of a built-in workload: one region (0), one touch kind, and, when
     * {@code intervalNanos} is positive, touch k due at k × interval.
     */
    public static TouchScript of(int[] pages, TouchKind kind, long intervalNanos) {
        TouchScript s = new TouchScript();
        s.regions = new int[pages.length];
        s.pages = pages.clone();
        s.kinds = new byte[pages.length];
        Arrays.fill(s.kinds, (byte) kind.ordinal());
        s.due = new long[pages.length];
        if (intervalNanos > 0) {
            for (int k = 0; k < pages.length; k++) {
                s.due[k] = k * intervalNanos;
            }
            s.paced = true;
        }
        s.size = pages.length;
        return s;
    }

    /** Appends a touch. {@code dueNanos} is relative to the thread's start; 0 means at once. */
    public void add(int region, int page, TouchKind kind, long dueNanos) {
        if (size == pages.length) {
            int n = size * 2;
            regions = Arrays.copyOf(regions, n);
            pages = Arrays.copyOf(pages, n);
            kinds = Arrays.copyOf(kinds, n);
            due = Arrays.copyOf(due, n);
        }
        regions[size] = region;
        pages[size] = page;
        kinds[size] = (byte) kind.ordinal();
        due[size] = dueNanos;
        paced |= dueNanos > 0;
        size++;
    }

    /** Trims the arrays to size; call once building is done. */
    public TouchScript seal() {
        regions = Arrays.copyOf(regions, size);
        pages = Arrays.copyOf(pages, size);
        kinds = Arrays.copyOf(kinds, size);
        due = Arrays.copyOf(due, size);
        return this;
    }

    /** Touches in the script. */
    public int size() {
        return size;
    }

    public int region(int k) {
        return regions[k];
    }

    public int page(int k) {
        return pages[k];
    }

    public TouchKind kind(int k) {
        return KINDS[kinds[k]];
    }

    /** Nanoseconds after the thread's start before which touch k must not begin (0: no wait). */
    public long due(int k) {
        return due[k];
    }

    /** Whether any touch has to wait for its time. */
    public boolean paced() {
        return paced;
    }

    /** Whether any touch is of kind {@code kind}. */
    public boolean uses(TouchKind kind) {
        for (int k = 0; k < size; k++) {
            if (kinds[k] == kind.ordinal()) {
                return true;
            }
        }
        return false;
    }
}
