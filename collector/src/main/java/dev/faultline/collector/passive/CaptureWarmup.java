package dev.faultline.collector.passive;

import dev.faultline.core.abi.Errno;
import dev.faultline.core.abi.MmanAbi;
import dev.faultline.core.abi.UffdAbi;
import dev.faultline.core.bpf.BpfRingBuffer;
import dev.faultline.core.trace.Compression;
import dev.faultline.core.trace.RegionInfo;
import dev.faultline.core.trace.ScratchFile;
import dev.faultline.core.trace.TraceEvent;
import dev.faultline.core.trace.TraceHeader;
import dev.faultline.core.trace.TraceWriter;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs the capture's own path — ring reading ({@link RecordDecoder}), ordering, linking, writing
 * and flushing — over made-up records before the probes go in, so that the JIT compiles the path
 * now ({@link PassiveCapture} then waits for it to finish) and not on the traced
 * process's CPUs while it runs.
 *
 * <p>The records are what a handler makes — its uffd, memfd and mappings, two registrations, faults
 * from four threads resolved by COPY, ZEROPAGE, DONTWAKE then WAKE, a failed COPY, pushes with no
 * fault, records out of order, a descriptor received and closed, the exit — so that no branch a
 * capture takes was never taken in the warm-up: C2 compiles an untaken branch as a trap, and a
 * capture that took one fell back to the interpreter and compiled the path again, twice, beside
 * the traced process (seen with {@code -Xlog:deoptimization=debug}).
 *
 * <p>Nothing of it reaches the capture's file: it writes to a {@link ScratchFile}, which nothing outlives.
 */
final class CaptureWarmup {
    /** Faults made up: enough for C2 to compile the loop bodies. */
    static final int FAULTS = 40_000;
    private static final long SHMEM_BASE = 0x7f0000000000L;
    private static final long ANON_BASE = 0x7f4000000000L;
    private static final int UFFD_FD = 5;
    private static final int MEMFD_FD = 6;
    private static final int PAGE = 4096;

    private final MemorySegment rec;
    private final BpfRingBuffer ring;
    private final RecordDecoder decoder = new RecordDecoder();
    private final EventOrder order;
    private long time = 1_000_000_000L;

    private CaptureWarmup(Arena arena, EventOrder order) {
        rec = arena.allocate(CaptureRecord.IOCTL_BYTES, 8);
        ring = BpfRingBuffer.inMemory(arena, 1 << 20);
        this.order = order;
    }

    /** Pushes {@link #FAULTS} made-up faults through the path a capture takes. */
    static void run() throws IOException {
        try (Arena arena = Arena.ofConfined(); ScratchFile scratch = ScratchFile.create()) {
            TraceWriter[] writer = new TraceWriter[1];
            List<RegionInfo> regions = new ArrayList<>();
            FaultLinker linker = new FaultLinker(new FaultLinker.Sink() {
                @Override
                public void region(RegionInfo region) {
                    regions.add(region);
                }

                @Override
                public void row(TraceEvent row) throws IOException {
                    if (writer[0] == null) {
                        writer[0] = TraceWriter.create(scratch.path(),
                                TraceHeader.now(PassiveCapture.SOURCE, "warm-up", 0, regions), Compression.ZSTD);
                    }
                    writer[0].append(row);
                }
            }, address -> null);
            CaptureWarmup w = new CaptureWarmup(arena, new EventOrder(PassiveCapture.ORDER_WINDOW_NANOS, linker));
            w.handler();
            for (int k = 0; k < FAULTS; k++) {
                w.fault(k);
                if (k % 5_000 == 4_999 && writer[0] != null) {
                    w.drain();
                    writer[0].flush();
                }
            }
            w.end();
            w.drain();
            w.order.drain();
            linker.finish();
            if (writer[0] != null) {
                writer[0].close();
            }
        }
    }

    /** What a handler does before its first fault: its uffd, a memfd, mappings, the API handshake, two registrations. */
    private void handler() {
        fd(CaptureRecord.UFFD, UFFD_FD, CaptureRecord.UFFD_BY_SYSCALL);
        fd(CaptureRecord.MEMFD, MEMFD_FD, 0);
        mmap(SHMEM_BASE, (long) FAULTS * PAGE, MmanAbi.MAP_SHARED, MEMFD_FD);
        mmap(ANON_BASE, (long) FAULTS * PAGE, MmanAbi.MAP_PRIVATE | MmanAbi.MAP_ANONYMOUS, -1);
        ioctl(UffdAbi._UFFDIO_API, 0, 0, UffdAbi.UFFD_API, 0, 0, 0);
        ioctl(UffdAbi._UFFDIO_REGISTER, 0, 0, SHMEM_BASE, (long) FAULTS * PAGE, 1, 0);
        ioctl(UffdAbi._UFFDIO_REGISTER, 0, 1, ANON_BASE, (long) FAULTS * PAGE, 1, 0);
    }

    /** Fault {@code k}: half on each region, from four threads, resolved mostly by COPY, now and then otherwise. */
    private void fault(int k) {
        long page = ((k & 1) == 0 ? SHMEM_BASE : ANON_BASE) + (long) PAGE * (k >> 1);
        int tid = 100 + (k & 3);
        time += 10_000;
        message(page, tid, (k & 7) == 0 ? 0 : UffdAbi.UFFD_PAGEFAULT_FLAG_WRITE);
        switch (k % 64) {
            case 13 -> ioctl(UffdAbi._UFFDIO_ZEROPAGE, 0, 0, page, PAGE, 0, 0);
            case 29 -> {
                ioctl(UffdAbi._UFFDIO_COPY, 0, 0, page, page, PAGE, UffdAbi.UFFDIO_COPY_MODE_DONTWAKE);
                ioctl(UffdAbi._UFFDIO_WAKE, 0, 0, page, PAGE, 0, 0);
            }
            case 41 -> {
                ioctl(UffdAbi._UFFDIO_COPY, -Errno.EEXIST, 0, page, page, PAGE, 0);
                ioctl(UffdAbi._UFFDIO_WAKE, 0, 0, page, PAGE, 0, 0);
            }
            case 53 -> { // a push of a page nobody faulted on yet, then the fault's own copy
                ioctl(UffdAbi._UFFDIO_COPY, 0, 0, page + (long) PAGE * FAULTS / 4, page, PAGE, 0);
                ioctl(UffdAbi._UFFDIO_COPY, 0, 0, page, page, PAGE, 0);
            }
            default -> ioctl(UffdAbi._UFFDIO_COPY, 0, 0, page, page, PAGE, 0);
        }
        if (k % 97 == 0) { // a record from a CPU that was preempted between its clock and its reserve
            time -= 5_000;
            mmap(ANON_BASE + (1L << 36), PAGE, MmanAbi.MAP_PRIVATE | MmanAbi.MAP_ANONYMOUS, -1);
            time += 5_000;
        }
        if (k % 1_000 == 500) {
            message(0x1000, tid, 0); // outside every region
            fds(9);
            fd(CaptureRecord.CLOSE, 9, 0);
        }
    }

    /** What a handler does at its end: unregisters, closes its uffd, exits. */
    private void end() {
        ioctl(UffdAbi._UFFDIO_UNREGISTER, 0, 0, SHMEM_BASE, (long) FAULTS * PAGE, 0, 0);
        ioctl(UffdAbi._UFFDIO_UNREGISTER, 0, 0, ANON_BASE, (long) FAULTS * PAGE, 0, 0);
        fd(CaptureRecord.CLOSE, UFFD_FD, 0);
        fd(CaptureRecord.EXIT, 0, 0);
    }

    /** Reads the ring as a capture does. */
    private void drain() {
        decoder.poll(ring, order::add);
    }

    private void append(int bytes) {
        MemorySegment r = rec.asSlice(0, bytes);
        while (!ring.append(r)) {
            drain();
        }
    }

    private void head(int type, int tid) {
        time += 100;
        rec.set(ValueLayout.JAVA_INT, 0, type);
        rec.set(ValueLayout.JAVA_INT, 4, tid);
        rec.set(ValueLayout.JAVA_LONG, 8, time);
    }

    private void message(long address, int tid, int flags) {
        head(CaptureRecord.MSG, tid);
        rec.set(ValueLayout.JAVA_LONG, 16, UffdAbi.UFFD_EVENT_PAGEFAULT);
        rec.set(ValueLayout.JAVA_LONG, 24, flags);
        rec.set(ValueLayout.JAVA_LONG, 32, address);
        rec.set(ValueLayout.JAVA_LONG, 40, tid);
        rec.set(ValueLayout.JAVA_LONG, 48, time - 2_000); // page_fault_user's time, thread and address
        rec.set(ValueLayout.JAVA_LONG, 56, address);
        rec.set(ValueLayout.JAVA_INT, 64, tid);
        rec.set(ValueLayout.JAVA_INT, 68, UFFD_FD);
        append(CaptureRecord.MSG_BYTES);
    }

    /** An IOCTL record (at its exit, 3 µs after its entry) whose argument struct's first four words are {@code a..d}. */
    private void ioctl(int nr, long ret, int slot, long a, long b, long c, long d) {
        head(CaptureRecord.IOCTL, 1);
        rec.set(ValueLayout.JAVA_LONG, 16, time - 3_000);
        rec.set(ValueLayout.JAVA_INT, 24, nr);
        rec.set(ValueLayout.JAVA_INT, 28, UFFD_FD);
        rec.set(ValueLayout.JAVA_LONG, 32, ret);
        rec.set(ValueLayout.JAVA_INT, 40, slot);
        rec.set(ValueLayout.JAVA_INT, 44, 0);
        rec.set(ValueLayout.JAVA_LONG, 48, a);
        rec.set(ValueLayout.JAVA_LONG, 56, b);
        rec.set(ValueLayout.JAVA_LONG, 64, c);
        rec.set(ValueLayout.JAVA_LONG, 72, d);
        rec.set(ValueLayout.JAVA_LONG, 80, ret == 0 ? c : ret);
        append(CaptureRecord.IOCTL_BYTES);
    }

    private void fd(int type, int fd, int how) {
        head(type, 1);
        rec.set(ValueLayout.JAVA_INT, 16, fd);
        rec.set(ValueLayout.JAVA_INT, 20, how);
        append(CaptureRecord.FD_BYTES);
    }

    private void mmap(long address, long length, int flags, int fd) {
        head(CaptureRecord.MMAP, 1);
        rec.set(ValueLayout.JAVA_LONG, 16, address);
        rec.set(ValueLayout.JAVA_LONG, 24, length);
        rec.set(ValueLayout.JAVA_LONG, 32, flags);
        rec.set(ValueLayout.JAVA_INT, 40, fd);
        rec.set(ValueLayout.JAVA_INT, 44, 3);
        append(CaptureRecord.MMAP_BYTES);
    }

    private void fds(int fd) {
        head(CaptureRecord.FDS, 1);
        rec.set(ValueLayout.JAVA_INT, 16, 1);
        rec.set(ValueLayout.JAVA_INT, 20, 0);
        for (int i = 0; i < 8; i++) {
            rec.set(ValueLayout.JAVA_INT, 24 + 4L * i, i == 0 ? fd : -1);
        }
        append(CaptureRecord.FDS_BYTES);
    }
}
