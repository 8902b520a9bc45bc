package dev.faultline.bench;

import dev.faultline.core.region.Backend;
import dev.faultline.core.trace.Compression;
import dev.faultline.core.trace.EventKind;
import dev.faultline.core.trace.RegionInfo;
import dev.faultline.core.trace.TraceEvent;
import dev.faultline.core.trace.TraceHeader;
import dev.faultline.core.trace.TraceWriter;
import dev.faultline.core.uffd.ResolveIoctl;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The trace writer's hot path: rows per second appended (and flushed in 64Ki-row batches) to a
 * trace file, ZSTD level 1 or uncompressed — what the recorder's writer thread spends.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@Fork(value = 1, jvmArgsAppend = {JvmFlags.NATIVE_ACCESS, JvmFlags.OPENS_NIO, JvmFlags.UNSAFE_MEMORY})
@Warmup(iterations = 1, time = 3)
@Measurement(iterations = 3, time = 3)
public class TraceWriteBenchmark {
    static final int ROWS = 1 << 20;

    @Param({"zstd", "none"})
    public String compression;

    private Path file;
    private final TraceEvent e = new TraceEvent();

    @Setup
    public void setUp() throws IOException {
        file = Files.createTempFile("faultline-write-bench-", ".arrow");
    }

    @TearDown
    public void tearDown() throws IOException {
        Files.deleteIfExists(file);
    }

    @Benchmark
    @OperationsPerInvocation(ROWS)
    public long write() throws IOException {
        List<RegionInfo> regions = List.of(RegionInfo.of(0, "ram", Backend.SHMEM, 1L << 32, 1, 0));
        try (TraceWriter w = TraceWriter.create(file, TraceHeader.now("in-process", "bench", 0, regions),
                Compression.valueOf(compression.toUpperCase(java.util.Locale.ROOT)))) {
            long t = 1_000_000_000L;
            for (int k = 0; k < ROWS; k++) {
                e.seq = k;
                e.kind = EventKind.PAGEFAULT;
                e.offset = (k * 7919L & 0xfffff) * 4096;
                e.ioctl = ResolveIoctl.COPY;
                e.resolveOffset = e.offset;
                e.resolveLength = 4096;
                e.tFault = t;
                e.tRead = t + 2_000;
                e.tResolveStart = t + 2_100;
                e.tResolveEnd = t + 9_000;
                e.tWake = t + 15_000 + (k & 1023);
                w.append(e);
                t += 16_000;
            }
            return w.rowsAppended();
        }
    }
}
