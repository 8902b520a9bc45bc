package dev.faultline.bench;

import dev.faultline.analysis.Analyzer;
import dev.faultline.analysis.By;
import dev.faultline.analysis.TraceAnalysis;
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
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;

/**
 * How fast {@code faultline analyze} reads a trace: events per second over a 4M-row ZSTD trace of
 * shmem COPY faults with end-to-end times (JMH's ops/s is events/s here).
 *
 * <pre>bench/scripts/jmh AnalyzeThroughput</pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@Fork(value = 1, jvmArgsAppend = {JvmFlags.NATIVE_ACCESS, JvmFlags.OPENS_NIO, JvmFlags.UNSAFE_MEMORY})
@Warmup(iterations = 2, time = 5)
@Measurement(iterations = 5, time = 5)
public class AnalyzeThroughputBenchmark {
    static final int ROWS = 4_000_000;
    private Path file;

    @Setup(Level.Trial)
    public void write() throws IOException {
        file = Files.createTempFile("faultline-analyze-bench-", ".arrow");
        List<RegionInfo> regions = List.of(RegionInfo.of(0, "ram", Backend.SHMEM, (long) ROWS * 4096, 1, 0));
        SplittableRandom random = new SplittableRandom(1);
        TraceEvent e = new TraceEvent();
        try (TraceWriter w = TraceWriter.create(file, TraceHeader.now("in-process", "bench", 0, regions), Compression.ZSTD)) {
            long t = 1_000_000_000L;
            for (int k = 0; k < ROWS; k++) {
                long latency = 10_000 + random.nextInt(20_000);
                e.seq = k;
                e.kind = EventKind.PAGEFAULT;
                e.offset = (long) random.nextInt(ROWS) * 4096;
                e.ioctl = ResolveIoctl.COPY;
                e.resolveOffset = e.offset;
                e.resolveLength = 4096;
                e.tFault = t;
                e.tRead = t + 2_000;
                e.tResolveStart = t + 2_100;
                e.tResolveEnd = t + latency - 1_000;
                e.tWake = t + latency;
                w.append(e);
                t += latency + 500;
            }
        }
    }

    @TearDown(Level.Trial)
    public void delete() throws IOException {
        Files.deleteIfExists(file);
    }

    @Benchmark
    @OperationsPerInvocation(ROWS)
    public TraceAnalysis analyze() throws IOException {
        return Analyzer.analyze(file, By.NONE);
    }
}
