package dev.faultline.analysis;

import dev.faultline.core.region.Backend;
import dev.faultline.core.trace.Compression;
import dev.faultline.core.trace.EventKind;
import dev.faultline.core.trace.RegionInfo;
import dev.faultline.core.trace.TraceEvent;
import dev.faultline.core.trace.TraceHeader;
import dev.faultline.core.trace.TraceWriter;
import dev.faultline.core.uffd.ResolveIoctl;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Test helper: traces with known latencies. Region 0 is shmem 4K resolved by COPY, region 1
 * hugetlb 2M by CONTINUE; fault k is on page k of its region, latency log-normal around
 * {@code medianNanos} (times {@code scale}), one tid per 4 rows.
 */
final class SyntheticTrace {
    static final List<RegionInfo> REGIONS = List.of(
            RegionInfo.of(0, "ram", Backend.SHMEM, 1L << 36, 1, 0x7f0000000000L),
            RegionInfo.of(1, "huge", Backend.HUGETLB_2M, 1L << 40, 4, 0x7e0000000000L));

    private SyntheticTrace() {
    }

    /** Writes {@code rows} fault rows per run for {@code runs} runs (no run column when runs is 0); returns every latency in row order. */
    static long[] write(Path file, int rows, int runs, double medianNanos, double scale, long seed) throws IOException {
        SplittableRandom r = new SplittableRandom(seed);
        long[] latencies = new long[rows * Math.max(1, runs)];
        TraceEvent e = new TraceEvent();
        try (TraceWriter w = TraceWriter.create(file, TraceHeader.now("in-process", "synthetic", 0, REGIONS), Compression.ZSTD, runs > 0)) {
            long t = 1_000_000_000L;
            int n = 0;
            for (int run = 0; run < Math.max(1, runs); run++) {
                for (int k = 0; k < rows; k++) {
                    e.clear();
                    e.seq = n;
                    e.kind = EventKind.PAGEFAULT;
                    e.region = k % 5 == 4 ? 1 : 0;
                    e.offset = (long) k * (e.region == 0 ? 4096 : 2 << 20);
                    e.flags = 1;
                    e.tid = 100 + k / 4 % 3;
                    e.ioctl = e.region == 0 ? ResolveIoctl.COPY : ResolveIoctl.CONTINUE;
                    e.resolveOffset = e.offset;
                    e.resolveLength = e.region == 0 ? 4096 : 2 << 20;
                    long latency = Math.max(1, Math.round(medianNanos * scale * Math.exp(0.6 * gaussian(r))));
                    e.tFault = t;
                    e.tRead = t + latency / 4;
                    e.tResolveStart = e.tRead + 50;
                    e.tResolveEnd = t + latency * 3 / 4;
                    e.tWake = t + latency;
                    e.run = runs > 0 ? run : -1;
                    w.append(e);
                    latencies[n++] = latency;
                    t += 20_000;
                }
            }
        }
        return latencies;
    }

    private static double gaussian(SplittableRandom r) {
        return Math.sqrt(-2 * Math.log(Math.max(1e-12, r.nextDouble()))) * Math.cos(2 * Math.PI * r.nextDouble());
    }
}
