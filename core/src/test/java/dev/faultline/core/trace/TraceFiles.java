package dev.faultline.core.trace;

import dev.faultline.core.region.Backend;
import dev.faultline.core.uffd.ResolveIoctl;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/** Test helper: deterministic traces whose every column can be recomputed from the row number. */
final class TraceFiles {
    static final List<RegionInfo> REGIONS = List.of(
            RegionInfo.of(0, "ram", Backend.SHMEM, 1L << 30, 1, 0x7f0000000000L),
            RegionInfo.of(1, "huge", Backend.HUGETLB_2M, 1L << 30, 5, 0x7e0000000000L),
            RegionInfo.of(2, "gig", Backend.HUGETLB_1G, 2L << 30, 4, 0));

    private TraceFiles() {
    }

    static TraceHeader header() {
        return TraceHeader.now("in-process", "test", 0x1ffffL, REGIONS).with("test.key", "value");
    }

    /** Row {@code n}, every column a function of n, nulls included. */
    static TraceEvent row(long n, TraceEvent e) {
        e.clear();
        e.seq = n;
        e.kind = EventKind.values()[(int) (n % EventKind.values().length)];
        e.region = (int) (n % 3);
        e.offset = (n * 4096) % (1L << 30);
        e.address = 0x7f0000000000L + e.offset + (n & 0xfff);
        e.flags = (int) (n % 8);
        e.tid = (int) (1000 + n % 7);
        e.ioctl = ResolveIoctl.values()[(int) (n % ResolveIoctl.values().length)];
        e.resolveOffset = e.offset;
        e.resolveLength = 4096L << (n % 4);
        e.result = n % 11 == 0 ? -17 : 0;
        e.tFault = n % 5 == 0 ? TraceEvent.UNKNOWN : 1_000_000_000L + n * 1000;
        e.tRead = 1_000_000_000L + n * 1000 + 100;
        e.tResolveStart = n % 7 == 0 ? TraceEvent.UNKNOWN : e.tRead + 10;
        e.tResolveEnd = e.tRead + 500 + n % 13;
        e.tWake = n % 3 == 0 ? TraceEvent.UNKNOWN : e.tResolveEnd + 200;
        return e;
    }

    static void write(Path path, long rows, Compression c) throws IOException {
        TraceEvent e = new TraceEvent();
        try (TraceWriter w = TraceWriter.create(path, header(), c)) {
            for (long n = 0; n < rows; n++) {
                w.append(row(n, e));
            }
        }
    }
}
