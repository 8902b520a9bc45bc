package dev.faultline.bench;

import dev.faultline.replay.ReplayOptions;
import dev.faultline.replay.ReplayRunner;
import dev.faultline.replay.plan.ReplayPlan;
import dev.faultline.replay.plan.ReplayPlanner;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * Each sample trace of traces/ replayed once, as a single shot: the wall time of its faults on
 * this kernel, the number to compare between kernels for a fixed, real fault stream. The traces
 * are looked up in {@code $FAULTLINE_TRACES}, else {@code traces/} under the working directory.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {JvmFlags.NATIVE_ACCESS, JvmFlags.OPENS_NIO, JvmFlags.UNSAFE_MEMORY})
@Warmup(iterations = 2)
@Measurement(iterations = 5)
public class SampleTraceReplayBenchmark {
    @Param({"sequential-shmem-copy", "random-anon-copy", "zipf-shmem-copy", "restore-shmem-copy-4threads",
            "wp-tracker-anon", "minor-shmem-continue"})
    public String trace;

    private ReplayPlan plan;
    private ReplayOptions options;

    @Setup
    public void setUp() throws IOException {
        Path dir = Path.of(System.getenv().getOrDefault("FAULTLINE_TRACES", "traces"));
        Path file = dir.resolve(trace + ".arrow");
        if (!Files.exists(file)) {
            throw new IOException("no sample trace " + file + " (run from the project root or set FAULTLINE_TRACES)");
        }
        options = ReplayOptions.builder().runs(1, 0).build();
        plan = ReplayPlanner.plan(file, options);
        new ReplayRunner(plan, options).check();
    }

    @Benchmark
    public long replay() throws IOException {
        return new ReplayRunner(plan, options).run(null, "jmh", p -> { }).runs().getLast().faults();
    }
}
