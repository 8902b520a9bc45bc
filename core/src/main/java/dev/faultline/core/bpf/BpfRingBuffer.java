package dev.faultline.core.bpf;

import dev.faultline.core.abi.BpfAbi;
import dev.faultline.core.abi.Libc;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/**
 * The user-space end of a BPF ring buffer map, read straight from its memory (the kernel's
 * layout, {@link BpfAbi}) without libbpf's callback: {@link #poll} hands each record in place to
 * a {@link RecordHandler} and then gives its space back.
 *
 * <p>One reader thread. No allocation per record. Records whose producer has not finished
 * ({@link BpfAbi#BPF_RINGBUF_BUSY_BIT}) stop the poll until the next one; discarded ones are skipped.
 *
 * <p>{@link #inMemory} makes one in ordinary memory with the same layout, which its holder fills
 * with {@link #append}: code that makes up records (a capture's JIT warm-up, tests) reads them
 * through this same {@link #poll}.
 */
public final class BpfRingBuffer implements AutoCloseable {
    private static final long PAGE = 4096;
    private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();
    private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();

    /** Gets each record: its bytes are {@code data[offset, offset + length)}, valid only during the call. */
    @FunctionalInterface
    public interface RecordHandler {
        void record(MemorySegment data, long offset, int length);
    }

    private final long size;
    private final long mask;
    private final long consumerAddress;
    private final long producerAddress;
    private final MemorySegment consumer;
    private final MemorySegment producer;
    private final MemorySegment data;
    private final boolean mapped;
    private boolean closed;

    /** Maps the ring buffer {@code map} of {@code size} bytes (a power of two, a multiple of the page size). */
    public BpfRingBuffer(BpfMap map, long size) {
        checkSize(size);
        this.size = size;
        this.mask = size - 1;
        consumerAddress = map.mmap(0, PAGE, true);
        try {
            producerAddress = map.mmap(PAGE, PAGE + 2 * size, false);
        } catch (BpfException e) {
            Libc.munmap(consumerAddress, PAGE);
            throw e;
        }
        consumer = MemorySegment.ofAddress(consumerAddress).reinterpret(PAGE);
        producer = MemorySegment.ofAddress(producerAddress).reinterpret(PAGE);
        data = MemorySegment.ofAddress(producerAddress + PAGE).reinterpret(2 * size);
        mapped = true;
    }

    private BpfRingBuffer(Arena arena, long size) {
        checkSize(size);
        this.size = size;
        this.mask = size - 1;
        consumerAddress = 0;
        producerAddress = 0;
        consumer = arena.allocate(PAGE, PAGE);
        producer = arena.allocate(PAGE, PAGE);
        data = arena.allocate(2 * size, PAGE); // a record that wraps is written whole past the end, where poll reads it
        mapped = false;
    }

    /** A ring of {@code size} bytes in {@code arena}'s memory, empty, for {@link #append}. */
    public static BpfRingBuffer inMemory(Arena arena, long size) {
        return new BpfRingBuffer(arena, size);
    }

    private static void checkSize(long size) {
        if (Long.bitCount(size) != 1 || size < PAGE) {
            throw new IllegalArgumentException("a ring buffer's size is a power of two of at least a page, not " + size);
        }
    }

    /**
     * Writes {@code record} as the kernel's {@code bpf_ringbuf_output} would (an in-memory ring only).
     *
     * @return false, writing nothing, if the ring has no room for it until the next {@link #poll}
     */
    public boolean append(MemorySegment record) {
        if (mapped) {
            throw new IllegalStateException("only the kernel writes a mapped ring buffer");
        }
        long length = record.byteSize();
        long need = (length + BpfAbi.BPF_RINGBUF_HDR_SZ + 7) & ~7L;
        long prod = (long) LONG.get(producer, 0L);
        if (prod + need - (long) LONG.getAcquire(consumer, 0L) > size) {
            return false;
        }
        long at = prod & mask;
        MemorySegment.copy(record, 0, data, at + BpfAbi.BPF_RINGBUF_HDR_SZ, length);
        data.set(ValueLayout.JAVA_INT, at + 4, 0);
        INT.setRelease(data, at, (int) length);
        LONG.setRelease(producer, 0L, prod + need);
        return true;
    }

    /** Bytes written and not yet consumed. */
    public long pending() {
        return (long) LONG.getAcquire(producer, 0L) - (long) LONG.getAcquire(consumer, 0L);
    }

    /** The ring's size in bytes. */
    public long size() {
        return size;
    }

    /**
     * Hands every finished record to {@code handler}, oldest first.
     *
     * @return the records handed over
     */
    public int poll(RecordHandler handler) {
        long cons = (long) LONG.getAcquire(consumer, 0L);
        long prod = (long) LONG.getAcquire(producer, 0L);
        int n = 0;
        while (cons < prod) {
            long at = cons & mask;
            int header = (int) INT.getAcquire(data, at);
            if ((header & BpfAbi.BPF_RINGBUF_BUSY_BIT) != 0) {
                break;
            }
            int length = header & ~(BpfAbi.BPF_RINGBUF_BUSY_BIT | BpfAbi.BPF_RINGBUF_DISCARD_BIT);
            if ((header & BpfAbi.BPF_RINGBUF_DISCARD_BIT) == 0) {
                handler.record(data, at + BpfAbi.BPF_RINGBUF_HDR_SZ, length);
                n++;
            }
            cons += (length + BpfAbi.BPF_RINGBUF_HDR_SZ + 7) & ~7L;
            LONG.setRelease(consumer, 0L, cons);
            if (cons >= prod) {
                prod = (long) LONG.getAcquire(producer, 0L);
            }
        }
        return n;
    }

    @Override
    public void close() {
        if (!closed && mapped) { // an in-memory ring goes with its arena
            closed = true;
            Libc.munmap(producerAddress, PAGE + 2 * size);
            Libc.munmap(consumerAddress, PAGE);
        }
    }
}
