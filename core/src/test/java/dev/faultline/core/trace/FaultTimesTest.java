package dev.faultline.core.trace;

import org.junit.jupiter.api.Test;

import static dev.faultline.core.trace.TraceEvent.UNKNOWN;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** The one set of latency definitions: which times each needs, and its floor. */
class FaultTimesTest {

    @Test
    void aRecordedFaultHasEveryDefinitionAndTheSplitAddsUp() {
        long fault = 1_000, read = 5_000, end = 12_000, wake = 20_000;
        assertEquals(19_000, FaultTimes.endToEnd(fault, wake));
        assertEquals(11_000, FaultTimes.faultToResolve(fault, end));
        assertEquals(7_000, FaultTimes.service(read, end));
        assertEquals(4_000, FaultTimes.queue(fault, read, end));
        assertEquals(8_000, FaultTimes.wake(read, end, wake));
        assertEquals(FaultTimes.endToEnd(fault, wake), FaultTimes.queue(fault, read, end) + FaultTimes.service(read, end)
                + FaultTimes.wake(read, end, wake));
        assertEquals(19_000, FaultTimes.latency(fault, read, end, wake), "end to end first");
    }

    @Test
    void eachFallsBackOrIsUnknownWithoutItsTimes() {
        // a passive capture: no wake
        assertEquals(11_000, FaultTimes.latency(1_000, 5_000, 12_000, UNKNOWN));
        assertEquals(UNKNOWN, FaultTimes.wake(5_000, 12_000, UNKNOWN));
        // a fault taken in the kernel (a KVM vCPU): no page_fault_user, only service
        assertEquals(7_000, FaultTimes.latency(UNKNOWN, 5_000, 12_000, UNKNOWN));
        assertEquals(UNKNOWN, FaultTimes.queue(UNKNOWN, 5_000, 12_000));
        // an unresolved fault: no queue either, so that queue + service + wake count the same faults
        assertEquals(UNKNOWN, FaultTimes.queue(1_000, 5_000, UNKNOWN));
        assertEquals(UNKNOWN, FaultTimes.latency(UNKNOWN, 5_000, UNKNOWN, UNKNOWN));
        assertEquals(5_000, FaultTimes.start(UNKNOWN, 5_000));
        assertEquals(12_000, FaultTimes.end(12_000, UNKNOWN));
    }

    @Test
    void latenciesAreAtLeastOneNanosecondAndTheSplitAtLeastZero() {
        assertEquals(1, FaultTimes.endToEnd(7, 7), "equal clock reads");
        assertEquals(1, FaultTimes.service(9, 9));
        // woken before the handler returned from the ioctl (traces/random-anon-copy.arrow, row 4)
        assertEquals(0, FaultTimes.wake(5_000, 120_000, 20_473));
    }
}
