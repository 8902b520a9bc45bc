package dev.faultline.core.uffd;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static dev.faultline.core.abi.UffdAbi.SIZEOF_UFFD_MSG;
import static dev.faultline.core.abi.UffdAbi.UFFD_MSG_EVENT;
import static dev.faultline.core.abi.UffdAbi.UFFD_MSG_FORK_UFD;
import static dev.faultline.core.abi.UffdAbi.UFFD_MSG_PAGEFAULT_ADDRESS;
import static dev.faultline.core.abi.UffdAbi.UFFD_MSG_PAGEFAULT_FLAGS;
import static dev.faultline.core.abi.UffdAbi.UFFD_MSG_PAGEFAULT_PTID;
import static dev.faultline.core.abi.UffdAbi.UFFD_MSG_REMAP_FROM;
import static dev.faultline.core.abi.UffdAbi.UFFD_MSG_REMAP_LEN;
import static dev.faultline.core.abi.UffdAbi.UFFD_MSG_REMAP_TO;
import static dev.faultline.core.abi.UffdAbi.UFFD_MSG_REMOVE_END;
import static dev.faultline.core.abi.UffdAbi.UFFD_MSG_REMOVE_START;

/**
 * An off-heap array of {@code uffd_msg} that {@link Userfaultfd#read} fills in one read(2), and
 * allocation-free accessors for the fields of message {@code i}.
 *
 * <p>Invariant: {@link #count()} messages, each {@value dev.faultline.core.abi.UffdAbi#SIZEOF_UFFD_MSG}
 * bytes, are valid from the start of the buffer. Owned by one handler thread.
 */
public final class UffdMessageBuffer {
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED;
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED;

    private final MemorySegment messages;
    private final int capacity;
    private int count;

    /** A buffer for up to {@code capacity} messages, kept alive by {@code arena}. */
    public UffdMessageBuffer(Arena arena, int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be at least 1, was " + capacity);
        }
        this.capacity = capacity;
        this.messages = arena.allocate((long) capacity * SIZEOF_UFFD_MSG, 8);
    }

    /** How many messages one read may return. */
    public int capacity() {
        return capacity;
    }

    /** How many messages the last read returned. */
    public int count() {
        return count;
    }

    /**
     * Loads {@code count} raw {@code uffd_msg}s (as the kernel writes them, {@value
     * dev.faultline.core.abi.UffdAbi#SIZEOF_UFFD_MSG} bytes each) that were read some other way —
     * e.g. captured from another process's read(2) — so that the same accessors decode them.
     *
     * @throws IllegalArgumentException if {@code raw} is shorter than that or count exceeds the capacity
     */
    public void load(byte[] raw, int count) {
        if (count < 0 || count > capacity || (long) count * SIZEOF_UFFD_MSG > raw.length) {
            throw new IllegalArgumentException(count + " messages need " + (long) count * SIZEOF_UFFD_MSG + " bytes and room for "
                    + count + "; got " + raw.length + " bytes, room for " + capacity);
        }
        MemorySegment.copy(raw, 0, messages, ValueLayout.JAVA_BYTE, 0, count * SIZEOF_UFFD_MSG);
        this.count = count;
    }

    long address() {
        return messages.address();
    }

    long byteSize() {
        return messages.byteSize();
    }

    void setCount(int count) {
        this.count = count;
    }

    private static long base(int i) {
        return (long) i * SIZEOF_UFFD_MSG;
    }

    /** The raw event code of message {@code i}. */
    public int eventCode(int i) {
        return messages.get(ValueLayout.JAVA_BYTE, base(i) + UFFD_MSG_EVENT) & 0xff;
    }

    /** The event of message {@code i}. */
    public UffdEvent event(int i) {
        return UffdEvent.of(eventCode(i));
    }

    /** PAGEFAULT: the UFFD_PAGEFAULT_FLAG_* bits. */
    public long flags(int i) {
        return messages.get(U64, base(i) + UFFD_MSG_PAGEFAULT_FLAGS);
    }

    /** PAGEFAULT: the faulting address. */
    public long address(int i) {
        return messages.get(U64, base(i) + UFFD_MSG_PAGEFAULT_ADDRESS);
    }

    /** PAGEFAULT: the faulting thread's id (0 without UFFD_FEATURE_THREAD_ID). */
    public int tid(int i) {
        return messages.get(U32, base(i) + UFFD_MSG_PAGEFAULT_PTID);
    }

    /** FORK: the child's userfaultfd. */
    public int forkUfd(int i) {
        return messages.get(U32, base(i) + UFFD_MSG_FORK_UFD);
    }

    /** REMAP: the old start. */
    public long remapFrom(int i) {
        return messages.get(U64, base(i) + UFFD_MSG_REMAP_FROM);
    }

    /** REMAP: the new start. */
    public long remapTo(int i) {
        return messages.get(U64, base(i) + UFFD_MSG_REMAP_TO);
    }

    /** REMAP: the length moved. */
    public long remapLength(int i) {
        return messages.get(U64, base(i) + UFFD_MSG_REMAP_LEN);
    }

    /** REMOVE and UNMAP: the start of the range. */
    public long rangeStart(int i) {
        return messages.get(U64, base(i) + UFFD_MSG_REMOVE_START);
    }

    /** REMOVE and UNMAP: the end of the range (exclusive). */
    public long rangeEnd(int i) {
        return messages.get(U64, base(i) + UFFD_MSG_REMOVE_END);
    }

    /** Message {@code i} as a value (allocates: not for the hot path). */
    public UffdMessage message(int i) {
        if (i < 0 || i >= count) {
            throw new IndexOutOfBoundsException("message " + i + " of " + count);
        }
        return switch (event(i)) {
            case PAGEFAULT -> new UffdMessage.PageFault(flags(i), address(i), tid(i));
            case FORK -> new UffdMessage.Fork(forkUfd(i));
            case REMAP -> new UffdMessage.Remap(remapFrom(i), remapTo(i), remapLength(i));
            case REMOVE -> new UffdMessage.Remove(rangeStart(i), rangeEnd(i));
            case UNMAP -> new UffdMessage.Unmap(rangeStart(i), rangeEnd(i));
            case UNKNOWN -> new UffdMessage.Unknown(eventCode(i));
        };
    }
}
