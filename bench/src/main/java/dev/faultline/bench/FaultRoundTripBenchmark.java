package dev.faultline.bench;

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
import org.openjdk.jmh.annotations.Warmup;

import java.io.IOException;
import java.util.concurrent.TimeUnit;

/**
 * One fault round trip — a thread touches a registered page, the Java handler reads the message,
 * resolves it, the thread runs again — on 4K pages (anon, shmem) per resolve op × wait strategy,
 * with recording off; {@link HugeFaultRoundTripBenchmark} does 2M pages. Each invocation maps a
 * fresh region and faults every page once in order, so the score is time per fault including the
 * region's set-up spread over {@value #PAGES} faults. A combination the kernel cannot do fails its
 * set-up with the probe's one-line reason; {@code faultline bench} asks the probe first and runs
 * only those that work.
 *
 * <pre>bench/scripts/jmh FaultRoundTrip -p backend=shmem -p op=copy,continue</pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = {JvmFlags.NATIVE_ACCESS, JvmFlags.OPENS_NIO, JvmFlags.UNSAFE_MEMORY})
@Warmup(iterations = 1, time = 2)
@Measurement(iterations = 3, time = 2)
public class FaultRoundTripBenchmark {
    /** Faults per invocation. */
    public static final int PAGES = 4096;

    @Param({"anon", "shmem"})
    public String backend;

    @Param({"copy", "zeropage", "continue", "wp", "move"})
    public String op;

    @Param({"spin", "poll"})
    public String wait;

    private RoundTrips trips;

    @Setup
    public void setUp() {
        trips = new RoundTrips(backend, op, wait, PAGES);
    }

    @Benchmark
    @OperationsPerInvocation(PAGES)
    public long roundTrip() throws IOException {
        return trips.run();
    }
}
