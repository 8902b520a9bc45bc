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
 * {@link FaultRoundTripBenchmark} on 2M huge pages: {@value #PAGES} faults per invocation (so
 * {@value #PAGES} + 1 free 2M pages are needed; hugetlb has no ZEROPAGE and no MOVE).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = {JvmFlags.NATIVE_ACCESS, JvmFlags.OPENS_NIO, JvmFlags.UNSAFE_MEMORY})
@Warmup(iterations = 1, time = 2)
@Measurement(iterations = 3, time = 2)
public class HugeFaultRoundTripBenchmark {
    public static final int PAGES = 32;

    @Param({"hugetlb2m"})
    public String backend;

    @Param({"copy", "continue", "wp"})
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
