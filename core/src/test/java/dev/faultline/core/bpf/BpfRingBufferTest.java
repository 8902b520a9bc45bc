package dev.faultline.core.bpf;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The reader over a ring in ordinary memory, filled as the kernel fills one: records come back
 * whole and in order, across the ring's end, and a full ring takes nothing until it is read.
 */
class BpfRingBufferTest {

    /** A record of {@code words} longs, the first {@code value}, the rest its successors. */
    private static MemorySegment record(Arena arena, int words, long value) {
        MemorySegment r = arena.allocate(8L * words, 8);
        for (int i = 0; i < words; i++) {
            r.setAtIndex(ValueLayout.JAVA_LONG, i, value + i);
        }
        return r;
    }

    @Test
    void recordsComeBackWholeAndInOrderAcrossTheEnd() {
        try (Arena arena = Arena.ofConfined()) {
            BpfRingBuffer ring = BpfRingBuffer.inMemory(arena, 4096);
            List<Long> seen = new ArrayList<>();
            long next = 0;
            for (int round = 0; round < 50; round++) { // 50 x 7 records of 80 + 8 bytes: around the 4 KiB ring several times
                for (int k = 0; k < 7; k++) {
                    assertTrue(ring.append(record(arena, 10, next * 100)), "room for record " + next);
                    next++;
                }
                int n = ring.poll((data, at, length) -> {
                    assertEquals(80, length);
                    long first = data.get(ValueLayout.JAVA_LONG_UNALIGNED, at);
                    for (int i = 1; i < 10; i++) {
                        assertEquals(first + i, data.get(ValueLayout.JAVA_LONG_UNALIGNED, at + 8L * i), "word " + i + " of " + first);
                    }
                    seen.add(first / 100);
                });
                assertEquals(7, n);
                assertEquals(0, ring.pending());
            }
            for (int i = 0; i < seen.size(); i++) {
                assertEquals(i, seen.get(i));
            }
        }
    }

    @Test
    void aFullRingTakesNothingUntilRead() {
        try (Arena arena = Arena.ofConfined()) {
            BpfRingBuffer ring = BpfRingBuffer.inMemory(arena, 4096);
            int taken = 0;
            while (ring.append(record(arena, 31, taken))) { // 248 + 8 bytes each: 16 fill the ring
                taken++;
            }
            assertEquals(16, taken);
            assertEquals(4096, ring.pending());
            assertEquals(16, ring.poll((data, at, length) -> { }));
            assertTrue(ring.append(record(arena, 31, 0)));
        }
    }

    @Test
    void onlyAnInMemoryRingIsWrittenHere() {
        try (Arena arena = Arena.ofConfined()) {
            assertThrows(IllegalArgumentException.class, () -> BpfRingBuffer.inMemory(arena, 3000));
            BpfRingBuffer ring = BpfRingBuffer.inMemory(arena, 4096);
            assertFalse(ring.append(arena.allocate(8192)), "a record larger than the ring never fits");
        }
    }
}
