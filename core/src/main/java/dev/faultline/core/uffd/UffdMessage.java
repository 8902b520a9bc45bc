package dev.faultline.core.uffd;

/**
 * One decoded {@code uffd_msg}, as an immutable value: for tests, tools and cold paths. The hot
 * path reads the same fields in place through {@link UffdMessageBuffer} without allocating.
 */
public sealed interface UffdMessage {
    /** The message's kind. */
    UffdEvent event();

    /**
     * A fault: {@code flags} are UFFD_PAGEFAULT_FLAG_* (WRITE=1, WP=2, MINOR=4), {@code address} is
     * as the kernel reported it (page-aligned unless UFFD_FEATURE_EXACT_ADDRESS), {@code tid} the
     * faulting thread or 0 without UFFD_FEATURE_THREAD_ID.
     */
    record PageFault(long flags, long address, int tid) implements UffdMessage {
        public UffdEvent event() {
            return UffdEvent.PAGEFAULT;
        }
    }

    /** The process forked; {@code ufd} is a new userfaultfd for the child, now owned by the reader. */
    record Fork(int ufd) implements UffdMessage {
        public UffdEvent event() {
            return UffdEvent.FORK;
        }
    }

    /** A registered range moved with mremap from {@code from} to {@code to}. */
    record Remap(long from, long to, long length) implements UffdMessage {
        public UffdEvent event() {
            return UffdEvent.REMAP;
        }
    }

    /** Pages in [start, end) were dropped (madvise DONTNEED or REMOVE). */
    record Remove(long start, long end) implements UffdMessage {
        public UffdEvent event() {
            return UffdEvent.REMOVE;
        }
    }

    /** [start, end) was unmapped. */
    record Unmap(long start, long end) implements UffdMessage {
        public UffdEvent event() {
            return UffdEvent.UNMAP;
        }
    }

    /** An event code this code does not know. */
    record Unknown(int code) implements UffdMessage {
        public UffdEvent event() {
            return UffdEvent.UNKNOWN;
        }
    }
}
