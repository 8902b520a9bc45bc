package dev.faultline.core.trace;

/**
 * What a trace row records (the {@code kind} column).
 */
public enum EventKind {
    /** A fault message the handler read, with the ioctl that resolved it. */
    PAGEFAULT,
    /** An ioctl no fault asked for: a prefetch or a background push. */
    RESOLVE,
    /** The process forked while regions were registered. */
    FORK,
    /** A registered range moved (mremap). */
    REMAP,
    /** Pages of a registered range were dropped (madvise). */
    REMOVE,
    /** A registered range was unmapped. */
    UNMAP
}
