package dev.faultline.collector.workload;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * The page order each faulting thread follows: {@code pages(t)} lists page indexes in touch
 * order. Threads own disjoint sets of pages, so every page's first touch is made by exactly one
 * thread and faults exactly once; only {@link WorkloadKind#ZIPF} touches a page more than once.
 * Deterministic for a given seed.
 */
public final class AccessPlan {
    private final int[][] perThread;
    private final int distinctPages;

    private AccessPlan(int[][] perThread) {
        this.perThread = perThread;
        int n = 0;
        for (int[] p : perThread) {
            n += (int) Arrays.stream(p).distinct().count();
        }
        this.distinctPages = n;
    }

    /** The touch order of thread {@code t}. */
    public int[] pages(int t) {
        return perThread[t];
    }

    public int threads() {
        return perThread.length;
    }

    /** Pages touched at least once: the faults a MISSING/MINOR/WP run takes. */
    public int distinctPages() {
        return distinctPages;
    }

    /** Touches in all, repeats included. */
    public long touches() {
        long n = 0;
        for (int[] p : perThread) {
            n += p.length;
        }
        return n;
    }

    /**
     * The plan for {@code kind} over {@code pages} pages and {@code threads} threads.
     *
     * @param stride pages between consecutive touches of {@link WorkloadKind#STRIDED}
     */
    public static AccessPlan of(WorkloadKind kind, int pages, int threads, int stride, long seed) {
        if (pages < 1 || threads < 1) {
            throw new IllegalArgumentException("need at least one page and one thread");
        }
        if (threads > pages) {
            throw new IllegalArgumentException(threads + " threads cannot share " + pages + " pages");
        }
        SplittableRandom random = new SplittableRandom(seed);
        return switch (kind) {
            case SEQUENTIAL -> new AccessPlan(slices(identity(pages), threads));
            case RANDOM -> new AccessPlan(dealt(shuffled(identity(pages), random), threads));
            case STRIDED -> new AccessPlan(slices(strided(pages, Math.max(1, stride)), threads));
            case ZIPF -> new AccessPlan(zipf(pages, threads, random));
            case RESTORE -> new AccessPlan(dealt(shuffled(workingSet(pages, random), random), threads));
        };
    }

    private static int[] identity(int n) {
        int[] a = new int[n];
        for (int i = 0; i < n; i++) {
            a[i] = i;
        }
        return a;
    }

    private static int[] shuffled(int[] a, SplittableRandom r) {
        for (int i = a.length - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            int t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
        return a;
    }

    private static int[] strided(int pages, int stride) {
        int[] a = new int[pages];
        int k = 0;
        for (int start = 0; start < stride && start < pages; start++) {
            for (int p = start; p < pages; p += stride) {
                a[k++] = p;
            }
        }
        return a;
    }

    /** Contiguous slices of the order, one per thread. */
    private static int[][] slices(int[] order, int threads) {
        int[][] out = new int[threads][];
        for (int t = 0; t < threads; t++) {
            int from = (int) ((long) order.length * t / threads);
            int to = (int) ((long) order.length * (t + 1) / threads);
            out[t] = Arrays.copyOfRange(order, from, to);
        }
        return out;
    }

    /** Dealt round-robin like cards: each thread gets every threads-th element. */
    private static int[][] dealt(int[] order, int threads) {
        int[][] out = new int[threads][];
        for (int t = 0; t < threads; t++) {
            out[t] = new int[(order.length - t + threads - 1) / threads];
            for (int i = t, k = 0; i < order.length; i += threads, k++) {
                out[t][k] = order[i];
            }
        }
        return out;
    }

    /** A quarter of the pages (at least one), in runs of 1-64 pages as a guest's working set tends to be. */
    private static int[] workingSet(int pages, SplittableRandom r) {
        boolean[] in = new boolean[pages];
        int target = Math.max(1, pages / 4);
        int n = 0;
        while (n < target) {
            int start = r.nextInt(pages);
            int run = 1 + r.nextInt(64);
            for (int p = start; p < Math.min(pages, start + run) && n < target; p++) {
                if (!in[p]) {
                    in[p] = true;
                    n++;
                }
            }
        }
        int[] out = new int[n];
        for (int p = 0, k = 0; p < pages; p++) {
            if (in[p]) {
                out[k++] = p;
            }
        }
        return out;
    }

    /**
     * Per thread, over its own slice of a shuffled page order: 4 touches per page drawn with
     * probability proportional to 1/rank (Zipf, s=1), so a few pages take most touches and many
     * are never touched.
     */
    private static int[][] zipf(int pages, int threads, SplittableRandom r) {
        int[][] own = slices(shuffled(identity(pages), r), threads);
        int[][] out = new int[threads][];
        for (int t = 0; t < threads; t++) {
            int[] mine = own[t];
            double[] cdf = new double[mine.length];
            double sum = 0;
            for (int k = 0; k < mine.length; k++) {
                sum += 1.0 / (k + 1);
                cdf[k] = sum;
            }
            int touches = mine.length * 4;
            out[t] = new int[touches];
            for (int i = 0; i < touches; i++) {
                int k = Arrays.binarySearch(cdf, r.nextDouble() * sum);
                out[t][i] = mine[Math.min(mine.length - 1, k < 0 ? -k - 1 : k)];
            }
        }
        return out;
    }
}
