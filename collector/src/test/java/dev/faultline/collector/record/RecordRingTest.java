package dev.faultline.collector.record;

import dev.faultline.core.trace.EventKind;
import dev.faultline.core.trace.TraceEvent;
import dev.faultline.core.uffd.ResolveIoctl;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The handler-to-writer hand-off: every field survives, a full ring drops and counts exactly. */
class RecordRingTest {
    static TraceEvent row(long n, TraceEvent e) {
        e.clear();
        e.seq = n;
        e.kind = n % 2 == 0 ? EventKind.PAGEFAULT : EventKind.REMOVE;
        e.region = (int) (n % 5);
        e.offset = n * 4096;
        e.address = 0x7f0000000000L + n;
        e.flags = (int) (n % 8);
        e.tid = -(int) n; // sign survives the packing
        e.ioctl = ResolveIoctl.values()[(int) (n % ResolveIoctl.values().length)];
        e.resolveOffset = n;
        e.resolveLength = 4096;
        e.result = n % 3 == 0 ? -17 : 0;
        e.tFault = n % 4 == 0 ? TraceEvent.UNKNOWN : n * 10;
        e.tRead = n * 10 + 1;
        e.tResolveStart = n * 10 + 2;
        e.tResolveEnd = n * 10 + 3;
        e.tWake = TraceEvent.UNKNOWN;
        return e;
    }

    @Test
    void aFullRingDropsAndCountsEveryRowItCouldNotTake() {
        RecordRing ring = new RecordRing(16);
        assertEquals(16, ring.capacity());
        TraceEvent e = new TraceEvent();
        int accepted = 0;
        for (int n = 0; n < 1000; n++) {
            if (ring.offer(row(n, e))) {
                accepted++;
            }
        }
        assertEquals(16, accepted);
        assertEquals(984, ring.dropped());
        TraceEvent got = new TraceEvent();
        for (int n = 0; n < 16; n++) {
            assertTrue(ring.peek(got));
            assertEquals(row(n, e), got, "the first rows are kept, in order");
            ring.advance();
        }
        assertFalse(ring.peek(got));
        assertTrue(ring.offer(row(5000, e)), "freed slots take rows again");
        assertEquals(984, ring.dropped());
    }

    @Test
    void aConsumerThatKeepsUpGetsEveryRowInOrder() throws Exception {
        RecordRing ring = new RecordRing(1024);
        int rows = 2_000_000;
        Thread producer = Thread.ofPlatform().start(() -> {
            TraceEvent e = new TraceEvent();
            for (int n = 0; n < rows; n++) {
                row(n, e);
                while (!ring.offer(e)) {
                    Thread.onSpinWait(); // the test's producer may wait; the handler never does
                }
            }
        });
        TraceEvent got = new TraceEvent();
        TraceEvent want = new TraceEvent();
        for (int n = 0; n < rows; n++) {
            while (!ring.peek(got)) {
                Thread.onSpinWait();
            }
            if (n % 9973 == 0) {
                assertEquals(row(n, want), got);
            } else {
                assertEquals(n, got.seq);
            }
            ring.advance();
        }
        producer.join();
        assertEquals(0, ring.size());
    }
}
