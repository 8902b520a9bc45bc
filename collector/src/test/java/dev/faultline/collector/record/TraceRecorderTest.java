package dev.faultline.collector.record;

import dev.faultline.core.region.Backend;
import dev.faultline.core.trace.Compression;
import dev.faultline.core.trace.EventKind;
import dev.faultline.core.trace.RegionInfo;
import dev.faultline.core.trace.TraceEvent;
import dev.faultline.core.trace.TraceHeader;
import dev.faultline.core.trace.TraceReader;
import dev.faultline.core.uffd.ResolveIoctl;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

/** The writer's join of fault rows with their touchers' clocks, on a real trace file. */
class TraceRecorderTest {
    static final int PAGES = 40;

    /**
     * A writer and a toucher frozen together (a safepoint, a stalled host) wake long after the
     * handler read the fault; the toucher records its clock a moment after the writer first looks.
     * Each row here is handed over with its hold already run out and its clock recorded 2 ms later:
     * a writer that gives up on its first look writes some of them without the toucher's times
     * (as WorkloadRunnerTest's 2-thread WRITEPROTECT case did, now and then, in full test runs).
     */
    @Test
    void aRowWhoseHoldRanOutWhileEveryoneWasFrozenStillGetsTheClockThatArrivesJustAfter(@TempDir Path dir)
            throws Exception {
        Path file = dir.resolve("t.arrow");
        RecordRing ring = new RecordRing(1024);
        TouchClock clock = new TouchClock(PAGES, 4096);
        TraceHeader header = TraceHeader.now("in-process", "test", 0,
                List.of(RegionInfo.of(0, "r", Backend.ANON, PAGES * 4096L, 0, 0)));
        TraceRecorder recorder = new TraceRecorder(file, header, Compression.NONE, List.of(ring), new TouchClock[] {clock});
        TraceEvent e = new TraceEvent();
        for (int page = 0; page < PAGES; page++) {
            long now = System.nanoTime();
            if (page == 1) {
                // the first row, timed at once, is written on the writer's first pass: it runs
                while (recorder.written() == 0) {
                    LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
                }
            }
            e.clear();
            e.seq = page;
            e.kind = EventKind.PAGEFAULT;
            e.region = 0;
            e.offset = page * 4096L;
            e.tid = 1;
            e.ioctl = ResolveIoctl.COPY;
            e.resolveOffset = e.offset;
            e.resolveLength = 4096;
            e.tRead = now - TraceRecorder.HOLD_NANOS - TimeUnit.MILLISECONDS.toNanos(100);
            e.tResolveStart = e.tRead + 1000;
            e.tResolveEnd = e.tRead + 2000;
            if (page == 0) {
                clock.record(page, e.tRead - 500, System.nanoTime());
                ring.offer(e);
                continue;
            }
            ring.offer(e);
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(2));
            clock.record(page, e.tRead - 500, System.nanoTime());
        }
        LockSupport.parkNanos(2 * TraceRecorder.GRACE_NANOS);
        recorder.touchersDone();
        recorder.close();
        int rows = 0;
        try (TraceReader r = TraceReader.open(file)) {
            TraceEvent got = new TraceEvent();
            while (r.nextBatch()) {
                for (int i = 0; i < r.batchRows(); i++) {
                    r.read(i, got);
                    assertNotEquals(TraceEvent.UNKNOWN, got.tWake, "row of page " + got.offset / 4096 + " has its toucher's t_wake");
                    assertEquals(got.tRead - 500, got.tFault);
                    rows++;
                }
            }
        }
        assertEquals(PAGES, rows);
    }
}
