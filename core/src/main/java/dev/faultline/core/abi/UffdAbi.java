package dev.faultline.core.abi;

/**
 * The userfaultfd ABI of {@code include/uapi/linux/userfaultfd.h}: ioctl numbers, flags, feature
 * bits and struct layouts (x86-64), under the kernel's own names.
 *
 * <p>Struct layouts are given as byte offsets ({@code <STRUCT>_<FIELD>}) and sizes
 * ({@code SIZEOF_<STRUCT>}). Every number here was checked against the installed uapi header and
 * computed with {@code _IOC} for the ioctls newer than it (MOVE, POISON).
 */
public final class UffdAbi {
    private UffdAbi() {
    }

    /** {@code __NR_userfaultfd} on x86-64. */
    public static final long SYS_userfaultfd = 323;
    /** {@code UFFD_USER_MODE_ONLY}: only faults taken in user mode are reported. */
    public static final int UFFD_USER_MODE_ONLY = 1;
    public static final long UFFD_API = 0xAA;

    // ---- ioctls ----------------------------------------------------------------------------
    public static final long USERFAULTFD_IOC_NEW = 0xAA00L;
    public static final long UFFDIO_API = 0xC018AA3FL;
    public static final long UFFDIO_REGISTER = 0xC020AA00L;
    public static final long UFFDIO_UNREGISTER = 0x8010AA01L;
    public static final long UFFDIO_WAKE = 0x8010AA02L;
    public static final long UFFDIO_COPY = 0xC028AA03L;
    public static final long UFFDIO_ZEROPAGE = 0xC020AA04L;
    public static final long UFFDIO_MOVE = 0xC028AA05L;
    public static final long UFFDIO_WRITEPROTECT = 0xC018AA06L;
    public static final long UFFDIO_CONTINUE = 0xC020AA07L;
    public static final long UFFDIO_POISON = 0xC020AA08L;

    // ---- bits of uffdio_api.ioctls / uffdio_register.ioctls (_UFFDIO_*) ---------------------
    public static final int _UFFDIO_REGISTER = 0x00;
    public static final int _UFFDIO_UNREGISTER = 0x01;
    public static final int _UFFDIO_WAKE = 0x02;
    public static final int _UFFDIO_COPY = 0x03;
    public static final int _UFFDIO_ZEROPAGE = 0x04;
    public static final int _UFFDIO_MOVE = 0x05;
    public static final int _UFFDIO_WRITEPROTECT = 0x06;
    public static final int _UFFDIO_CONTINUE = 0x07;
    public static final int _UFFDIO_POISON = 0x08;
    public static final int _UFFDIO_API = 0x3F;

    // ---- register modes ---------------------------------------------------------------------
    public static final long UFFDIO_REGISTER_MODE_MISSING = 1L << 0;
    public static final long UFFDIO_REGISTER_MODE_WP = 1L << 1;
    public static final long UFFDIO_REGISTER_MODE_MINOR = 1L << 2;

    // ---- resolve modes ----------------------------------------------------------------------
    public static final long UFFDIO_COPY_MODE_DONTWAKE = 1L << 0;
    public static final long UFFDIO_COPY_MODE_WP = 1L << 1;
    public static final long UFFDIO_ZEROPAGE_MODE_DONTWAKE = 1L << 0;
    public static final long UFFDIO_WRITEPROTECT_MODE_WP = 1L << 0;
    public static final long UFFDIO_WRITEPROTECT_MODE_DONTWAKE = 1L << 1;
    public static final long UFFDIO_CONTINUE_MODE_DONTWAKE = 1L << 0;
    public static final long UFFDIO_CONTINUE_MODE_WP = 1L << 1;
    public static final long UFFDIO_POISON_MODE_DONTWAKE = 1L << 0;
    public static final long UFFDIO_MOVE_MODE_DONTWAKE = 1L << 0;
    public static final long UFFDIO_MOVE_MODE_ALLOW_SRC_HOLES = 1L << 1;

    // ---- uffd_msg ---------------------------------------------------------------------------
    public static final int UFFD_EVENT_PAGEFAULT = 0x12;
    public static final int UFFD_EVENT_FORK = 0x13;
    public static final int UFFD_EVENT_REMAP = 0x14;
    public static final int UFFD_EVENT_REMOVE = 0x15;
    public static final int UFFD_EVENT_UNMAP = 0x16;

    public static final int UFFD_PAGEFAULT_FLAG_WRITE = 1 << 0;
    public static final int UFFD_PAGEFAULT_FLAG_WP = 1 << 1;
    public static final int UFFD_PAGEFAULT_FLAG_MINOR = 1 << 2;

    public static final int SIZEOF_UFFD_MSG = 32;
    public static final int UFFD_MSG_EVENT = 0;                 // __u8
    public static final int UFFD_MSG_PAGEFAULT_FLAGS = 8;       // __u64
    public static final int UFFD_MSG_PAGEFAULT_ADDRESS = 16;    // __u64
    public static final int UFFD_MSG_PAGEFAULT_PTID = 24;       // __u32
    public static final int UFFD_MSG_FORK_UFD = 8;              // __u32
    public static final int UFFD_MSG_REMAP_FROM = 8;            // __u64
    public static final int UFFD_MSG_REMAP_TO = 16;             // __u64
    public static final int UFFD_MSG_REMAP_LEN = 24;            // __u64
    public static final int UFFD_MSG_REMOVE_START = 8;          // __u64 (also UNMAP)
    public static final int UFFD_MSG_REMOVE_END = 16;           // __u64 (also UNMAP)

    // ---- argument structs -------------------------------------------------------------------
    /** struct uffdio_api { __u64 api; __u64 features; __u64 ioctls; } */
    public static final int SIZEOF_UFFDIO_API = 24;
    public static final int UFFDIO_API_API = 0;
    public static final int UFFDIO_API_FEATURES = 8;
    public static final int UFFDIO_API_IOCTLS = 16;

    /** struct uffdio_range { __u64 start; __u64 len; } */
    public static final int SIZEOF_UFFDIO_RANGE = 16;
    public static final int UFFDIO_RANGE_START = 0;
    public static final int UFFDIO_RANGE_LEN = 8;

    /** struct uffdio_register { struct uffdio_range range; __u64 mode; __u64 ioctls; } */
    public static final int SIZEOF_UFFDIO_REGISTER = 32;
    public static final int UFFDIO_REGISTER_MODE = 16;
    public static final int UFFDIO_REGISTER_IOCTLS = 24;

    /** struct uffdio_copy { __u64 dst; __u64 src; __u64 len; __u64 mode; __s64 copy; } */
    public static final int SIZEOF_UFFDIO_COPY = 40;
    public static final int UFFDIO_COPY_DST = 0;
    public static final int UFFDIO_COPY_SRC = 8;
    public static final int UFFDIO_COPY_LEN = 16;
    public static final int UFFDIO_COPY_MODE = 24;
    public static final int UFFDIO_COPY_COPY = 32;

    /** struct uffdio_zeropage { struct uffdio_range range; __u64 mode; __s64 zeropage; } */
    public static final int SIZEOF_UFFDIO_ZEROPAGE = 32;
    public static final int UFFDIO_ZEROPAGE_MODE = 16;
    public static final int UFFDIO_ZEROPAGE_ZEROPAGE = 24;

    /** struct uffdio_writeprotect { struct uffdio_range range; __u64 mode; } */
    public static final int SIZEOF_UFFDIO_WRITEPROTECT = 24;
    public static final int UFFDIO_WRITEPROTECT_MODE = 16;

    /** struct uffdio_continue { struct uffdio_range range; __u64 mode; __s64 mapped; } */
    public static final int SIZEOF_UFFDIO_CONTINUE = 32;
    public static final int UFFDIO_CONTINUE_MODE = 16;
    public static final int UFFDIO_CONTINUE_MAPPED = 24;

    /** struct uffdio_poison { struct uffdio_range range; __u64 mode; __s64 updated; } */
    public static final int SIZEOF_UFFDIO_POISON = 32;
    public static final int UFFDIO_POISON_MODE = 16;
    public static final int UFFDIO_POISON_UPDATED = 24;

    /** struct uffdio_move { __u64 dst; __u64 src; __u64 len; __u64 mode; __s64 move; } */
    public static final int SIZEOF_UFFDIO_MOVE = 40;
    public static final int UFFDIO_MOVE_DST = 0;
    public static final int UFFDIO_MOVE_SRC = 8;
    public static final int UFFDIO_MOVE_LEN = 16;
    public static final int UFFDIO_MOVE_MODE = 24;
    public static final int UFFDIO_MOVE_MOVE = 32;
}
