package dev.faultline.collector.handler;

import dev.faultline.core.abi.Libc;

/**
 * Which CPUs a spinning handler's threads own. A thread that spins never leaves its CPU of its own
 * accord, so a faulting thread the kernel wakes there waits a whole time slice (4 ms, measured with
 * bpftrace on sched_switch) while the C floor's never does. When the process may run on more CPUs
 * than there are spinning threads, handler thread i is pinned to the i-th highest allowed CPU and
 * faulting threads are kept off those ({@link #othersMask()}); otherwise nothing is pinned.
 *
 * <p>Masks cover CPUs 0-63; on bigger machines (where getaffinity with 8 bytes fails) nothing is pinned.
 */
public final class SpinCpus {
    private final long allowed;
    private final long owned;
    private final int[] cpus;

    private SpinCpus(long allowed, int threads) {
        this.allowed = allowed;
        int[] picked = new int[threads];
        long mask = 0;
        long left = allowed;
        if (allowed > 0 && Long.bitCount(allowed) > threads) {
            for (int i = 0; i < threads; i++) {
                int cpu = 63 - Long.numberOfLeadingZeros(left);
                picked[i] = cpu;
                mask |= 1L << cpu;
                left &= ~(1L << cpu);
            }
        } else {
            java.util.Arrays.fill(picked, -1);
        }
        this.owned = mask;
        this.cpus = picked;
    }

    /** The placement for {@code threads} spinning handler threads in this process (none if they would not leave a CPU free). */
    public static SpinCpus forSpinning(int threads) {
        return new SpinCpus(Libc.getAffinity(0), threads);
    }

    /** No pinning at all (poll handlers sleep, so they leave their CPU by themselves). */
    public static SpinCpus none() {
        return new SpinCpus(-1, 0);
    }

    /** Pins the calling thread as handler thread {@code index}; returns whether it was pinned. */
    boolean pinHandler(int index) {
        return index < cpus.length && cpus[index] >= 0 && Libc.setAffinity(Libc.gettid(), 1L << cpus[index]) == 0;
    }

    /** The CPUs the handler threads own (0 when nothing is pinned). */
    public long ownedMask() {
        return owned;
    }

    /** The CPUs left for everyone else (faulting threads), or 0 when nothing is pinned. */
    public long othersMask() {
        return owned == 0 ? 0 : allowed & ~owned;
    }

    /** Keeps the calling thread off the handler's CPUs; a no-op when nothing is pinned. */
    public void keepOff() {
        long others = othersMask();
        if (others != 0) {
            Libc.setAffinity(Libc.gettid(), others);
        }
    }
}
