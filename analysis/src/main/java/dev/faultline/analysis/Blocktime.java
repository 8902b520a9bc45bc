package dev.faultline.analysis;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The time faulting threads were blocked on faults, per thread and overlapped across threads, by
 * QEMU's own definitions: a vCPU is blocked from the handler's read of its fault to the exit of
 * the ioctl that placed the page ({@code postcopy-vcpu-blocktime}, one number per vCPU), and the
 * guest as a whole while every vCPU is blocked at once ({@code postcopy-blocktime}). The same
 * times counted from the fault's entry (page_fault_user) are kept beside, where it was seen.
 *
 * <p>A thread's blocked time is the union of its faults' intervals (a thread woken by a signal
 * reads a second message for the fault it waits on, so they can overlap); without the intervals (a
 * summary file, or too many) it is their sum. The union and the overlap need every interval: up to a cap are kept (20 bytes each, {@link #MAX_INTERVALS} in
 * all); past that, or when the analysis does not keep them, the overlap is reported as not
 * computed, never estimated.
 */
public final class Blocktime {
    /** Intervals kept for the overlap at most. */
    public static final int MAX_INTERVALS = 4_000_000;

    /** One thread's total: faults, ns from read to resolve, ns from fault entry to resolve (over the faults with an entry), those faults. */
    public record Thread(int tid, long faults, long readToResolve, long faultToResolve, long timedFaults) {
    }

    /**
     * The result.
     *
     * @param threads        every faulting thread, by tid
     * @param vcpus          the threads the overlap is over (QEMU's vCPUs), by tid
     * @param allBlocked     ns during which every one of {@code vcpus} was blocked (-1: not computed)
     * @param anyBlocked     ns during which at least one was (-1: not computed)
     * @param vcpusFrom      how {@code vcpus} was chosen, in words
     */
    public record Result(Map<Integer, Thread> threads, List<Integer> vcpus, long allBlocked, long anyBlocked, String vcpusFrom) {
        /** The vCPUs' blocked times, in {@code vcpus} order (QEMU's postcopy-vcpu-blocktime). */
        public long[] perVcpu() {
            long[] out = new long[vcpus.size()];
            for (int i = 0; i < out.length; i++) {
                Thread t = threads.get(vcpus.get(i));
                out[i] = t == null ? 0 : t.readToResolve();
            }
            return out;
        }
    }

    private final Map<Integer, long[]> perThread = new HashMap<>();
    private final int cap;
    private int lastTid = Integer.MIN_VALUE;
    private long[] last;
    private long[] starts = new long[0];
    private long[] ends = new long[0];
    private int[] tids = new int[0];
    private int n;
    private boolean overflow;

    /** @param cap intervals this share keeps for the overlap (0: none, the overlap is not computed) */
    public Blocktime(int cap) {
        this.cap = Math.min(cap, MAX_INTERVALS);
        overflow = cap == 0;
    }
    private boolean summarized; // per-thread sums from a summary file: no intervals, no overlap

    /** One resolved fault of thread {@code tid}: entry (or {@link Long#MIN_VALUE}), read, resolve end. */
    public void add(int tid, long tFault, long tRead, long tResolveEnd) {
        long[] t = thread(tid);
        long blocked = Math.max(0, tResolveEnd - tRead);
        t[0]++;
        t[1] += blocked;
        if (tFault != Long.MIN_VALUE) {
            t[2] += Math.max(0, tResolveEnd - tFault);
            t[3]++;
        }
        append(tRead, Math.max(tRead, tResolveEnd), tid, cap);
    }

    /** Keeps one interval for the overlap, up to {@code limit} of them (then marks the overlap not computable). */
    private void append(long start, long end, int tid, int limit) {
        if (n >= limit) {
            overflow = true;
            return;
        }
        if (n == starts.length) {
            int m = Math.min(limit, Math.max(1024, n * 2));
            starts = Arrays.copyOf(starts, m);
            ends = Arrays.copyOf(ends, m);
            tids = Arrays.copyOf(tids, m);
        }
        starts[n] = start;
        ends[n] = end;
        tids[n] = tid;
        n++;
    }

    /** A thread's totals as a summary file counted them in the kernel. */
    public void addSummary(int tid, long faults, long readToResolve, long faultToResolve, long timedFaults) {
        long[] t = thread(tid);
        t[0] += faults;
        t[1] += readToResolve;
        t[2] += faultToResolve;
        t[3] += timedFaults;
        summarized = true;
    }

    private long[] thread(int tid) {
        if (tid != lastTid) {
            lastTid = tid;
            last = perThread.computeIfAbsent(tid, k -> new long[4]);
        }
        return last;
    }

    /** Adds another share of the same file. */
    public void merge(Blocktime o) {
        o.perThread.forEach((tid, v) -> {
            long[] t = perThread.computeIfAbsent(tid, k -> new long[4]);
            for (int i = 0; i < 4; i++) {
                t[i] += v[i];
            }
        });
        lastTid = Integer.MIN_VALUE;
        summarized |= o.summarized;
        overflow |= o.overflow;
        for (int i = 0; i < o.n && !(overflow && n >= MAX_INTERVALS); i++) {
            append(o.starts[i], o.ends[i], o.tids[i], MAX_INTERVALS);
        }
    }

    /** Whether any fault was counted. */
    public boolean isEmpty() {
        return perThread.isEmpty();
    }

    /**
     * The blocked times, overlapped over {@code vcpus} (QEMU's vCPU thread ids, from QMP), or when
     * that is empty over the faulting threads {@code names} call vCPUs ({@code CPU 0/TCG}, {@code CPU 1/KVM}),
     * or over every faulting thread when none is named so.
     */
    public Result result(Collection<Integer> vcpus, Map<Integer, String> names) {
        Map<Integer, Thread> threads = new TreeMap<>();
        perThread.forEach((tid, v) -> threads.put(tid, new Thread(tid, v[0], v[1], v[2], v[3])));
        List<Integer> over = new ArrayList<>();
        String from;
        if (vcpus != null && !vcpus.isEmpty()) {
            over.addAll(vcpus);
            from = "QEMU's vCPU threads (query-cpus-fast)";
        } else {
            for (int tid : threads.keySet()) {
                String name = names.get(tid);
                if (name != null && name.matches("CPU \\d+/\\w+")) {
                    over.add(tid);
                }
            }
            from = over.isEmpty() ? "every faulting thread (none is named as a QEMU vCPU)"
                    : "the faulting threads named as QEMU vCPUs (CPU n/...); a vCPU that never faulted is not counted";
            if (over.isEmpty()) {
                over.addAll(threads.keySet());
            }
        }
        if (overflow || summarized) {
            return new Result(threads, over, -1, -1, from);
        }
        // per thread: the union of its intervals (a thread woken by a signal reads a second message for the
        // same fault, so its intervals can overlap), which is its blocked time; then the overlap of the unions
        Map<Integer, long[][]> segments = new HashMap<>();
        for (Map.Entry<Integer, long[][]> e : intervalsByThread().entrySet()) {
            long[][] union = union(e.getValue()[0], e.getValue()[1]);
            segments.put(e.getKey(), union);
            Thread t = threads.get(e.getKey());
            long covered = 0;
            for (int i = 0; i < union[0].length; i++) {
                covered += union[1][i] - union[0][i];
            }
            threads.put(e.getKey(), new Thread(t.tid(), t.faults(), covered, t.faultToResolve(), t.timedFaults()));
        }
        int k = 0;
        for (int tid : over) {
            long[][] u = segments.get(tid);
            k += u == null ? 0 : u[0].length;
        }
        long[] s = new long[k];
        long[] e = new long[k];
        int at = 0;
        for (int tid : over) {
            long[][] u = segments.get(tid);
            if (u != null) {
                System.arraycopy(u[0], 0, s, at, u[0].length);
                System.arraycopy(u[1], 0, e, at, u[1].length);
                at += u[0].length;
            }
        }
        Arrays.sort(s);
        Arrays.sort(e);
        return new Result(threads, over, covered(s, e, over.size()), covered(s, e, 1), from);
    }

    /** Each thread's interval starts and ends. */
    private Map<Integer, long[][]> intervalsByThread() {
        Map<Integer, int[]> counts = new HashMap<>();
        for (int i = 0; i < n; i++) {
            counts.computeIfAbsent(tids[i], x -> new int[1])[0]++;
        }
        Map<Integer, long[][]> out = new HashMap<>();
        counts.forEach((tid, c) -> out.put(tid, new long[][] {new long[c[0]], new long[c[0]]}));
        Map<Integer, int[]> fill = new HashMap<>();
        for (int i = 0; i < n; i++) {
            long[][] a = out.get(tids[i]);
            int j = fill.computeIfAbsent(tids[i], x -> new int[1])[0]++;
            a[0][j] = starts[i];
            a[1][j] = ends[i];
        }
        return out;
    }

    /** The union of intervals given by their starts and ends, as disjoint segments {starts, ends} in time order. */
    static long[][] union(long[] starts, long[] ends) {
        long[] s = starts.clone();
        long[] e = ends.clone();
        Arrays.sort(s);
        Arrays.sort(e);
        long[] us = new long[s.length];
        long[] ue = new long[s.length];
        int m = 0;
        int down = 0;
        int i = 0;
        int j = 0;
        while (i < s.length || j < e.length) {
            if (i < s.length && s[i] <= e[j]) {
                if (down++ == 0) {
                    us[m] = s[i];
                }
                i++;
            } else {
                if (--down == 0) {
                    ue[m++] = e[j];
                }
                j++;
            }
        }
        return new long[][] {Arrays.copyOf(us, m), Arrays.copyOf(ue, m)};
    }

    /** The time during which at least {@code needed} of the intervals (sorted starts and ends) are open at once. */
    static long covered(long[] s, long[] e, int needed) {
        long total = 0;
        int down = 0;
        long since = 0;
        int i = 0;
        int j = 0;
        while (i < s.length || j < e.length) {
            boolean start = i < s.length && s[i] <= e[j];
            long t = start ? s[i] : e[j];
            if (down >= needed && needed > 0) {
                total += t - since;
            }
            since = t;
            if (start) {
                down++;
                i++;
            } else {
                down--;
                j++;
            }
        }
        return total;
    }
}
