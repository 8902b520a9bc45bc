package dev.faultline.core.abi;

/**
 * The BPF ABI of {@code include/uapi/linux/bpf.h} that Faultline's user-space side needs, under
 * the kernel's own names: map update flags and the layout of a BPF ring buffer as user space maps it.
 *
 * <p>A ring buffer map is mapped in two parts: its consumer page (read-write, {@code consumer_pos}
 * at offset 0) at file offset 0, and its producer page ({@code producer_pos} at offset 0, read-only)
 * followed by the data area, mapped twice in a row so that a record never wraps, at file offset
 * one page. Each record starts with an 8-byte header: a 32-bit length whose top bits say
 * {@link #BPF_RINGBUF_BUSY_BIT busy} (still being written) or {@link #BPF_RINGBUF_DISCARD_BIT
 * discarded}, then 32 bits the kernel uses; the record's bytes follow, padded to 8.
 */
public final class BpfAbi {
    private BpfAbi() {
    }

    /** bpf_map_update_elem flags. */
    public static final long BPF_ANY = 0;
    public static final long BPF_NOEXIST = 1;
    public static final long BPF_EXIST = 2;

    public static final int BPF_RINGBUF_BUSY_BIT = 1 << 31;
    public static final int BPF_RINGBUF_DISCARD_BIT = 1 << 30;
    public static final int BPF_RINGBUF_HDR_SZ = 8;
}
