package dev.faultline.bench;

import dev.faultline.collector.workload.RecordingSummary;
import dev.faultline.collector.workload.WorkloadKind;
import dev.faultline.collector.workload.WorkloadRunner;
import dev.faultline.collector.workload.WorkloadSpec;
import dev.faultline.core.region.Backend;
import dev.faultline.core.uffd.ResolveIoctl;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * What recording costs the handler: the time per fault of a sequential single-thread write
 * workload resolved by the Java handler (spin), with recording off and on, in the same forks'
 * conditions. The ratio on/off of the scores is the throughput kept with recording.
 *
 * <p>Run: {@code bench/scripts/jmh RecordingOverhead} (needs root or /dev/userfaultfd access).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 3, jvmArgsAppend = {JvmFlags.NATIVE_ACCESS, JvmFlags.OPENS_NIO, JvmFlags.UNSAFE_MEMORY})
@Warmup(iterations = 2, time = 4)
@Measurement(iterations = 5, time = 4)
public class RecordingOverheadBenchmark {
    static final int PAGES = 20_000;

    /** off: the handler alone; on: every fault recorded to a ZSTD trace. */
    @Param({"off", "on"})
    public String recording;

    @Param({"shmem"})
    public String backend;

    private WorkloadRunner runner;
    private Path dir;
    private Path trace;

    @Setup
    public void setUp() throws IOException {
        runner = new WorkloadRunner(WorkloadSpec.defaults(WorkloadKind.SEQUENTIAL, Backend.parse(backend), ResolveIoctl.COPY, PAGES));
        runner.check();
        dir = Files.createTempDirectory("faultline-jmh");
        trace = recording.equals("on") ? dir.resolve("t.arrow") : null;
    }

    @Benchmark
    @OperationsPerInvocation(PAGES)
    public long fault() throws IOException {
        RecordingSummary s = runner.run(trace, "jmh", p -> { });
        return s.faults();
    }

    @TearDown
    public void tearDown() throws IOException {
        if (trace != null) {
            Files.deleteIfExists(trace);
        }
        Files.deleteIfExists(dir);
    }
}
