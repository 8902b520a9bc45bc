package dev.faultline.core.uffd;

import dev.faultline.core.abi.UffdAbi;

/**
 * The ioctls that resolve a fault (or install memory no fault asked for), with their bit in the
 * {@code ioctls} mask that UFFDIO_REGISTER returns and the mode bit that keeps the faulting
 * threads asleep ({@code *_MODE_DONTWAKE}). {@link #NONE} marks trace rows with no ioctl.
 */
public enum ResolveIoctl {
    COPY(UffdAbi._UFFDIO_COPY, UffdAbi.UFFDIO_COPY_MODE_DONTWAKE),
    ZEROPAGE(UffdAbi._UFFDIO_ZEROPAGE, UffdAbi.UFFDIO_ZEROPAGE_MODE_DONTWAKE),
    CONTINUE(UffdAbi._UFFDIO_CONTINUE, UffdAbi.UFFDIO_CONTINUE_MODE_DONTWAKE),
    WRITEPROTECT(UffdAbi._UFFDIO_WRITEPROTECT, UffdAbi.UFFDIO_WRITEPROTECT_MODE_DONTWAKE),
    MOVE(UffdAbi._UFFDIO_MOVE, UffdAbi.UFFDIO_MOVE_MODE_DONTWAKE),
    POISON(UffdAbi._UFFDIO_POISON, UffdAbi.UFFDIO_POISON_MODE_DONTWAKE),
    WAKE(UffdAbi._UFFDIO_WAKE, 0),
    NONE(-1, 0);

    private final int bit;
    private final long dontWake;

    ResolveIoctl(int bit, long dontWake) {
        this.bit = bit;
        this.dontWake = dontWake;
    }

    /** The mode bit of this ioctl's struct that places the page without waking its faults (0: none). */
    public long dontWakeMode() {
        return dontWake;
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
