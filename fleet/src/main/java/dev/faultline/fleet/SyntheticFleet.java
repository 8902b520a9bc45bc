package dev.faultline.fleet;

import dev.faultline.core.FaultlineVersion;
import dev.faultline.core.region.Backend;
import dev.faultline.core.trace.Compression;
import dev.faultline.core.trace.EventKind;
import dev.faultline.core.trace.RegionInfo;
import dev.faultline.core.trace.TraceEvent;
import dev.faultline.core.trace.TraceHeader;
import dev.faultline.core.trace.TraceWriter;
import dev.faultline.core.uffd.ResolveIoctl;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Replay results of a fleet that never ran, for the fleet job's tests and benchmark: host {@code i}
 * replays on kernel {@code kernels[i % k]}, on shmem (4K COPY), hugetlb (2M CONTINUE) or anon (4K
 * ZEROPAGE) by {@code i % 3}, for 1 or 2 runs; latencies are log-normal around 20 µs (2M: 200 µs),
 * times {@code 1 + 0.25 * j} on the j-th kernel, split into queue, service and wake; each run ends
 * with one RESOLVE row (a push), which the job must leave out. Deterministic for a seed.
 *
 * <p>{@code java -cp … dev.faultline.fleet.SyntheticFleet DIR HOSTS FAULTS_PER_HOST KERNEL,KERNEL…}
 * writes {@code DIR/host-NNNNN.arrow}.
 */
public final class SyntheticFleet {
    private SyntheticFleet() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 4) {
            System.err.println("usage: SyntheticFleet DIR HOSTS FAULTS_PER_HOST KERNEL,KERNEL...");
            System.exit(2);
        }
        long t0 = System.nanoTime();
        List<Path> files = write(Path.of(args[0]), Integer.parseInt(args[1]), Integer.parseInt(args[2]),
                List.of(args[3].split(",")), 1);
        System.err.printf(java.util.Locale.ROOT, "SyntheticFleet: %d traces in %s in %.1f s%n", files.size(), args[0],
                (System.nanoTime() - t0) / 1e9);
    }

    /** Writes {@code hosts} traces of about {@code faultsPerHost} faults (in all runs) into {@code dir}; returns them in name order. */
    public static List<Path> write(Path dir, int hosts, int faultsPerHost, List<String> kernels, long seed) throws IOException {
        Files.createDirectories(dir);
        List<Path> out = new ArrayList<>();
        for (int i = 0; i < hosts; i++) {
            Path f = dir.resolve(String.format(java.util.Locale.ROOT, "host-%05d.arrow", i));
            writeHost(f, i, faultsPerHost, kernels, seed);
            out.add(f);
        }
        return out;
    }

    private static void writeHost(Path file, int host, int faults, List<String> kernels, long seed) throws IOException {
        int k = host % kernels.size();
        Backend backend = switch (host % 3) {
            case 0 -> Backend.SHMEM;
            case 1 -> Backend.HUGETLB_2M;
            default -> Backend.ANON;
        };
        ResolveIoctl ioctl = switch (backend) {
            case HUGETLB_2M -> ResolveIoctl.CONTINUE;
            case ANON -> ResolveIoctl.ZEROPAGE;
            default -> ResolveIoctl.COPY;
        };
        int runs = 1 + host % 2;
        long page = backend.pageSize();
        RegionInfo region = RegionInfo.of(0, "guest-ram", backend, page * Math.max(1, faults), 1, 0x7f0000000000L);
        TraceHeader h = new TraceHeader(FaultlineVersion.get(), kernels.get(k), String.format(java.util.Locale.ROOT, "host-%05d", host),
                0, "replay", "synthetic fleet", "2026-12-0" + (1 + host % 7) + "T00:00:00Z", List.of(region), Map.of());
        SplittableRandom r = new SplittableRandom(seed * 1_000_003 + host);
        double median = (backend == Backend.HUGETLB_2M ? 200_000 : 20_000) * (1 + 0.25 * k);
        TraceEvent e = new TraceEvent();
        try (TraceWriter w = TraceWriter.create(file, h, Compression.ZSTD, true)) {
            long seq = 0;
            long t = 1_000_000_000L + host * 1_000_000L;
            for (int run = 0; run < runs; run++) {
                for (int n = 0; n < faults / runs; n++) {
                    long latency = Math.max(100, Math.round(median * Math.exp(0.5 * gaussian(r))));
                    e.clear();
                    e.seq = seq++;
                    e.kind = EventKind.PAGEFAULT;
                    e.offset = n * page;
                    e.address = region.base() + e.offset;
                    e.flags = 1;
                    e.tid = 1000 + n % 4;
                    e.ioctl = ioctl;
                    e.resolveOffset = e.offset;
                    e.resolveLength = page;
                    e.tFault = t;
                    e.tRead = t + latency / 5;
                    e.tResolveStart = e.tRead + 100;
                    e.tResolveEnd = t + latency * 4 / 5;
                    e.tWake = t + latency;
                    e.run = run;
                    w.append(e);
                    t += latency / 2 + r.nextInt(5_000);
                }
                e.clear();
                e.seq = seq++;
                e.kind = EventKind.RESOLVE;
                e.ioctl = ioctl;
                e.resolveLength = page;
                e.tResolveStart = t;
                e.tResolveEnd = t + 1_000;
                e.run = run;
                w.append(e);
                t += 50_000_000L; // the gap between runs
            }
        }
    }

    private static double gaussian(SplittableRandom r) {
        return Math.sqrt(-2 * Math.log(Math.max(1e-12, r.nextDouble()))) * Math.cos(2 * Math.PI * r.nextDouble());
    }
}
