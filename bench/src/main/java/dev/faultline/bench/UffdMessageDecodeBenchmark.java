package dev.faultline.bench;

import dev.faultline.core.abi.UffdAbi;
import dev.faultline.core.uffd.UffdEvent;
import dev.faultline.core.uffd.UffdMessageBuffer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.TimeUnit;

/**
 * The handler's decoding of a batch of {@code uffd_msg}s: per message, its event code, and for a
 * page fault the address, flags and thread id — read off-heap without allocation, as the hot loop
 * does after each read(2). The batch (32 page faults, the handler's read size) is loaded once.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = {JvmFlags.NATIVE_ACCESS, JvmFlags.OPENS_NIO, JvmFlags.UNSAFE_MEMORY})
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
public class UffdMessageDecodeBenchmark {
    static final int BATCH = 32;
    private Arena arena;
    private UffdMessageBuffer buffer;

    @Setup
    public void setUp() {
        ByteBuffer raw = ByteBuffer.allocate(BATCH * UffdAbi.SIZEOF_UFFD_MSG).order(ByteOrder.nativeOrder());
        for (int i = 0; i < BATCH; i++) {
            int base = i * UffdAbi.SIZEOF_UFFD_MSG;
            raw.put(base + UffdAbi.UFFD_MSG_EVENT, (byte) UffdEvent.PAGEFAULT.code());
            raw.putLong(base + UffdAbi.UFFD_MSG_PAGEFAULT_FLAGS, i & 1);
            raw.putLong(base + UffdAbi.UFFD_MSG_PAGEFAULT_ADDRESS, 0x7f0000000000L + i * 4096L);
            raw.putInt(base + UffdAbi.UFFD_MSG_PAGEFAULT_PTID, 1000 + i);
        }
        arena = Arena.ofConfined();
        buffer = new UffdMessageBuffer(arena, BATCH);
        buffer.load(raw.array(), BATCH);
    }

    @TearDown
    public void tearDown() {
        arena.close();
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public long decode() {
        long sum = 0;
        int pagefault = UffdEvent.PAGEFAULT.code();
        for (int i = 0; i < buffer.count(); i++) {
            if (buffer.eventCode(i) == pagefault) {
                sum += buffer.address(i) ^ buffer.flags(i) ^ buffer.tid(i);
            }
        }
        return sum;
    }
}
