package dev.faultline.collector.passive;

/**
 * The records the capture program ({@code capture.bpf.c}) writes into its ring buffer: their type
 * codes, sizes and field offsets, which must match the C structs there byte for byte. Every record
 * starts with {@code u32 type; u32 tid; u64 time} ({@link #HEAD_BYTES}); little-endian, 8-aligned.
 *
 * <p>{@link CapturedEvent#decode} reads them; a record whose length is not its type's size is
 * refused there, so a program and a reader that disagree fail loudly instead of decoding garbage.
 */
public final class CaptureRecord {
    private CaptureRecord() {
    }

    /** A uffd_msg a read(2) returned: {@code u64 msg[4]; u64 fault_time; u64 fault_address; u32 fault_tid; s32 fd}. */
    public static final int MSG = 1;
    /** A UFFDIO_* ioctl at its exit: {@code u64 enter; u32 nr; s32 fd; s64 ret; u32 slot; u32 pad; u64 arg[5]}. */
    public static final int IOCTL = 2;
    /** A file descriptor became known as a uffd: {@code s32 fd; u32 how} ({@link #UFFD_BY_SYSCALL} …). */
    public static final int UFFD = 3;
    /** A uffd was closed: {@code s32 fd; u32 0}. */
    public static final int CLOSE = 4;
    /** memfd_create(2) returned: {@code s32 fd; u32 flags}. */
    public static final int MEMFD = 5;
    /** mmap(2) returned: {@code u64 address; u64 length; u64 flags; s32 fd; u32 prot}. */
    public static final int MMAP = 6;
    /** The process's main thread exited. */
    public static final int EXIT = 7;
    /** File descriptors received over a socket (SCM_RIGHTS): {@code u32 count; u32 pad; s32 fds[8]}. */
    public static final int FDS = 8;
    /**
     * A process the traced one started opened a uffd while the traced one had none, and is the traced
     * process from now on: {@code s32 fd} holds its pid, {@code u32 how} the pid traced before.
     */
    public static final int FOLLOW = 9;

    public static final int HEAD_BYTES = 16;
    public static final int MSG_BYTES = 72;
    public static final int IOCTL_BYTES = 88;
    public static final int FD_BYTES = 24;
    public static final int MMAP_BYTES = 48;
    public static final int FDS_BYTES = 56;

    /** How a uffd became known (REC_UFFD's {@code how}). */
    public static final int UFFD_BY_SYSCALL = 1;
    public static final int UFFD_BY_DEVICE = 2;
    public static final int UFFD_BY_IOCTL = 3;

    /** The record size of {@code type}, or -1 for an unknown type. */
    public static int bytes(int type) {
        return switch (type) {
            case MSG -> MSG_BYTES;
            case IOCTL -> IOCTL_BYTES;
            case UFFD, CLOSE, MEMFD, EXIT, FOLLOW -> FD_BYTES;
            case MMAP -> MMAP_BYTES;
            case FDS -> FDS_BYTES;
            default -> -1;
        };
    }
}
