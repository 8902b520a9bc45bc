package dev.faultline.collector.passive;

import dev.faultline.core.bpf.BpfRingBuffer;

import java.lang.foreign.MemorySegment;
import java.util.function.Consumer;

/**
 * Turns the capture program's ring buffer records into {@link CapturedEvent}s for a consumer: the
 * one record handler both a capture ({@link CaptureProgram#poll}) and its JIT warm-up
 * ({@link CaptureWarmup}) read through, so the code compiled in the warm-up is the code the
 * capture runs.
 *
 * <p>One event object, reused for every record: the consumer copies what it keeps.
 */
final class RecordDecoder implements BpfRingBuffer.RecordHandler {
    private final CapturedEvent event = new CapturedEvent();
    private Consumer<CapturedEvent> sink;
    private long malformed;

    /** Reads {@code ring}'s finished records into {@code to}; returns how many. */
    int poll(BpfRingBuffer ring, Consumer<CapturedEvent> to) {
        sink = to;
        return ring.poll(this);
    }

    @Override
    public void record(MemorySegment data, long offset, int length) {
        if (event.decode(data, offset, length)) {
            sink.accept(event);
        } else {
            malformed++;
        }
    }

    /** Records of an unknown type or the wrong size for theirs. */
    long malformed() {
        return malformed;
    }
}
