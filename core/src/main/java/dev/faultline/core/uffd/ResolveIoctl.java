package dev.faultline.core.uffd;

import dev.faultline.core.abi.UffdAbi;

/**
 * The ioctls that resolve a fault (or install memory no fault asked for), with their bit in the
 * {@code ioctls} mask that UFFDIO_REGISTER returns. {@link #NONE} marks trace rows with no ioctl.
 */
public enum ResolveIoctl {
    COPY(UffdAbi._UFFDIO_COPY),
    ZEROPAGE(UffdAbi._UFFDIO_ZEROPAGE),
    CONTINUE(UffdAbi._UFFDIO_CONTINUE),
    WRITEPROTECT(UffdAbi._UFFDIO_WRITEPROTECT),
    MOVE(UffdAbi._UFFDIO_MOVE),
    POISON(UffdAbi._UFFDIO_POISON),
    WAKE(UffdAbi._UFFDIO_WAKE),
    NONE(-1);

    private final int bit;

    ResolveIoctl(int bit) {
        this.bit = bit;
    }

    /** Whether a registration's {@code ioctls} mask lists this ioctl. */
    public boolean in(long ioctls) {
        return bit >= 0 && (ioctls & (1L << bit)) != 0;
    }

    /** The ioctls that resolve faults, in the order the probe shows them (no WAKE, no NONE). */
    public static ResolveIoctl[] resolving() {
        return new ResolveIoctl[] {COPY, ZEROPAGE, CONTINUE, WRITEPROTECT, MOVE, POISON};
    }
}
