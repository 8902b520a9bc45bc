package dev.faultline.core.trace;

import dev.faultline.core.uffd.ResolveIoctl;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Rows spilled during a run come back in order with every field, and a spill cut short says so. */
class RowSpillTest {
    @Test
    void everyFieldOfEveryRowComesBackInOrder(@TempDir Path dir) throws IOException {
        List<TraceEvent> written = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            written.add(row(i));
        }
        Collected back = new Collected(dir.resolve("collected"));
        try (RowSpill spill = RowSpill.create(dir.resolve("rows.spill"))) {
            for (TraceEvent e : written) {
                spill.append(e);
            }
            assertEquals(1000, spill.rowsAppended());
            assertEquals(1000, spill.copyTo(back));
            assertEquals(1000, spill.rowsFlushed());
        }
        assertEquals(written.size(), back.rows.size());
        for (int i = 0; i < written.size(); i++) {
            TraceEvent a = written.get(i);
            TraceEvent b = back.rows.get(i);
            assertEquals(Arrays.asList(a.seq, a.kind, a.region, a.offset, a.address, a.flags, a.tid, a.ioctl, a.resolveOffset,
                    a.resolveLength, a.result, a.resolveMode, a.tFault, a.tRead, a.tResolveStart, a.tResolveEnd, a.tWake, a.run,
                    a.count, a.countTimed, a.totalNanos, a.totalFaultNanos),
                    Arrays.asList(b.seq, b.kind, b.region, b.offset, b.address, b.flags, b.tid, b.ioctl, b.resolveOffset,
                    b.resolveLength, b.result, b.resolveMode, b.tFault, b.tRead, b.tResolveStart, b.tResolveEnd, b.tWake, b.run,
                    b.count, b.countTimed, b.totalNanos, b.totalFaultNanos), "row " + i);
            assertArrayEquals(a.histLatency, b.histLatency, "row " + i);
            assertArrayEquals(a.histWake, b.histWake, "row " + i);
            assertArrayEquals(a.histQueue, b.histQueue, "row " + i);
        }
    }

    @Test
    void aSpillCutShortIsRefusedNamingIt(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("rows.spill");
        try (RowSpill spill = RowSpill.create(file)) {
            for (int i = 0; i < 10; i++) {
                spill.append(row(i));
            }
            spill.flush();
            try (FileChannel c = FileChannel.open(file, StandardOpenOption.WRITE)) {
                c.truncate(c.size() / 2);
            }
            assertEquals("the row spill " + file + " ends before its 10 rows do",
                    assertThrows(IOException.class, () -> spill.copyTo(new Collected(file))).getMessage());
        }
    }

    private static TraceEvent row(int i) {
        TraceEvent e = new TraceEvent();
        e.seq = i;
        e.kind = i % 3 == 0 ? EventKind.RESOLVE : EventKind.PAGEFAULT;
        e.region = i % 4;
        e.offset = i * 4096L;
        e.address = 0x7f00_0000_0000L + i * 4096L;
        e.flags = i & 7;
        e.tid = 1000 + i % 5;
        e.ioctl = ResolveIoctl.values()[i % ResolveIoctl.values().length];
        e.resolveOffset = i * 4096L;
        e.resolveLength = 4096L << (i % 3);
        e.result = -(i % 2) * 11;
        e.resolveMode = i % 2;
        e.tFault = i % 7 == 0 ? TraceEvent.UNKNOWN : 1_000_000L + i;
        e.tRead = 2_000_000L + i;
        e.tResolveStart = 3_000_000L + i;
        e.tResolveEnd = 4_000_000L + i;
        e.tWake = i % 5 == 0 ? TraceEvent.UNKNOWN : 5_000_000L + i;
        e.run = i % 2;
        e.count = i;
        e.countTimed = i / 2;
        e.totalNanos = 10L * i;
        e.totalFaultNanos = 20L * i;
        e.histLatency = i % 2 == 0 ? null : new byte[]{(byte) i, 1, 2};
        e.histWake = i % 3 == 0 ? new byte[0] : null;
        return e;
    }

    /** A sink that keeps a copy of every row. */
    private static final class Collected implements RowSink {
        final List<TraceEvent> rows = new ArrayList<>();
        private final Path path;

        Collected(Path path) {
            this.path = path;
        }

        @Override
        public void append(TraceEvent e) {
            TraceEvent c = new TraceEvent().copyFrom(e);
            rows.add(c);
        }

        @Override
        public void flush() {
        }

        @Override
        public long rowsAppended() {
            return rows.size();
        }

        @Override
        public long rowsFlushed() {
            return rows.size();
        }

        @Override
        public Path path() {
            return path;
        }
    }
}
