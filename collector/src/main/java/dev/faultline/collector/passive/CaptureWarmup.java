package dev.faultline.collector.passive;

import dev.faultline.core.abi.UffdAbi;
import dev.faultline.core.trace.Compression;
import dev.faultline.core.trace.RegionInfo;
import dev.faultline.core.trace.TraceEvent;
import dev.faultline.core.trace.TraceHeader;
import dev.faultline.core.trace.ScratchFile;
import dev.faultline.core.trace.TraceWriter;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;

/**
 * Runs the capture's own path — record decoding, ordering, linking, writing — over made-up
 * records before the probes go in, so that the JIT compiles it then and not on the traced
 * process's CPUs while it runs: a short capture otherwise spent much of its CPU in the compiler,
 * and every moment a CPU is busy is a wake-up that needs an IPI.
 *
 * <p>Nothing of it reaches the capture's file: it writes to a {@link ScratchFile}, which nothing outlives.
 */
final class CaptureWarmup {
    /** Faults made up: enough for C2 to compile the loop bodies. */
    static final int FAULTS = 30_000;
    private static final long BASE = 0x7f0000000000L;

    private CaptureWarmup() {
    }

    /** Pushes {@link #FAULTS} made-up fault messages and copies through the path a capture takes. */
    static void run() throws IOException {
        try (Arena arena = Arena.ofConfined(); ScratchFile scratch = ScratchFile.create()) {
            Path file = scratch.path();
            TraceWriter[] writer = new TraceWriter[1];
            java.util.List<RegionInfo> regions = new java.util.ArrayList<>();
            FaultLinker linker = new FaultLinker(new FaultLinker.Sink() {
                @Override
                public void region(RegionInfo region) {
                    regions.add(region);
                }

                @Override
                public void row(TraceEvent row) throws IOException {
                    if (writer[0] == null) {
                        writer[0] = TraceWriter.create(file, TraceHeader.now(PassiveCapture.SOURCE, "warm-up", 0, regions),
                                Compression.ZSTD);
                    }
                    writer[0].append(row);
                }
            }, address -> null);
            EventOrder order = new EventOrder(PassiveCapture.ORDER_WINDOW_NANOS, linker);
            MemorySegment rec = arena.allocate(CaptureRecord.IOCTL_BYTES, 8);
            CapturedEvent e = new CapturedEvent();
            long t = 1_000_000_000L;
            ioctl(rec, t, UffdAbi._UFFDIO_REGISTER, BASE, (long) FAULTS * 4096, 1);
            if (e.decode(rec, 0, CaptureRecord.IOCTL_BYTES)) {
                order.add(e);
            }
            for (int k = 0; k < FAULTS; k++) {
                long page = BASE + 4096L * k;
                t += 10_000;
                message(rec, t, page);
                if (e.decode(rec, 0, CaptureRecord.MSG_BYTES)) {
                    order.add(e);
                }
                ioctl(rec, t + 5_000, UffdAbi._UFFDIO_COPY, page, 0, 4096);
                if (e.decode(rec, 0, CaptureRecord.IOCTL_BYTES)) {
                    order.add(e);
                }
            }
            order.drain();
            linker.finish();
            if (writer[0] != null) {
                writer[0].close();
            }
        }
    }

    private static void head(MemorySegment rec, int type, long time) {
        rec.set(ValueLayout.JAVA_INT, 0, type);
        rec.set(ValueLayout.JAVA_INT, 4, 2);
        rec.set(ValueLayout.JAVA_LONG, 8, time);
    }

    private static void message(MemorySegment rec, long t, long page) {
        head(rec, CaptureRecord.MSG, t);
        rec.set(ValueLayout.JAVA_LONG, 16, UffdAbi.UFFD_EVENT_PAGEFAULT);
        rec.set(ValueLayout.JAVA_LONG, 24, 1);
        rec.set(ValueLayout.JAVA_LONG, 32, page);
        rec.set(ValueLayout.JAVA_LONG, 40, 3);
        rec.set(ValueLayout.JAVA_LONG, 48, t - 2_000);
        rec.set(ValueLayout.JAVA_LONG, 56, page);
        rec.set(ValueLayout.JAVA_INT, 64, 3);
        rec.set(ValueLayout.JAVA_INT, 68, 5);
    }

    /** An IOCTL record whose struct starts with {@code a}, {@code b} (COPY: dst, src) and has {@code len} at the COPY's len. */
    private static void ioctl(MemorySegment rec, long t, int nr, long a, long b, long len) {
        head(rec, CaptureRecord.IOCTL, t);
        rec.set(ValueLayout.JAVA_LONG, 16, t - 3_000);
        rec.set(ValueLayout.JAVA_INT, 24, nr);
        rec.set(ValueLayout.JAVA_INT, 28, 5);
        rec.set(ValueLayout.JAVA_LONG, 32, 0);
        rec.set(ValueLayout.JAVA_INT, 40, 0);
        rec.set(ValueLayout.JAVA_LONG, 48, a);
        rec.set(ValueLayout.JAVA_LONG, 56, nr == UffdAbi._UFFDIO_REGISTER ? len : b);
        rec.set(ValueLayout.JAVA_LONG, 64, nr == UffdAbi._UFFDIO_REGISTER ? 1 : len);
        rec.set(ValueLayout.JAVA_LONG, 72, 0);
        rec.set(ValueLayout.JAVA_LONG, 80, 0);
    }
}
