package dev.faultline.core.uffd;

import dev.faultline.core.abi.UffdAbi;

/** The kind of a {@code uffd_msg} ({@code UFFD_EVENT_*}). */
public enum UffdEvent {
    PAGEFAULT(UffdAbi.UFFD_EVENT_PAGEFAULT),
    FORK(UffdAbi.UFFD_EVENT_FORK),
    REMAP(UffdAbi.UFFD_EVENT_REMAP),
    REMOVE(UffdAbi.UFFD_EVENT_REMOVE),
    UNMAP(UffdAbi.UFFD_EVENT_UNMAP),
    /** An event code this code does not know; the raw code stays in the message. */
    UNKNOWN(-1);

    private static final UffdEvent[] BY_CODE = new UffdEvent[256];

    static {
        java.util.Arrays.fill(BY_CODE, UNKNOWN);
        for (UffdEvent e : values()) {
            if (e.code >= 0) {
                BY_CODE[e.code] = e;
            }
        }
    }

    private final int code;

    UffdEvent(int code) {
        this.code = code;
    }

    /** The kernel's event code. */
    public int code() {
        return code;
    }

    /** The event for a kernel code, {@link #UNKNOWN} if not known. Allocation-free. */
    public static UffdEvent of(int code) {
        return BY_CODE[code & 0xff];
    }
}
