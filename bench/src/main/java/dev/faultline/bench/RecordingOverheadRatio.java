package dev.faultline.bench;

import dev.faultline.collector.workload.RecordingSummary;
import dev.faultline.collector.workload.WorkloadKind;
import dev.faultline.collector.workload.WorkloadRunner;
import dev.faultline.collector.workload.WorkloadSpec;
import dev.faultline.core.region.Backend;
import dev.faultline.core.trace.Compression;
import dev.faultline.core.uffd.ResolveIoctl;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * What recording costs the handler, as a paired ratio: in one JVM, runs of the same workload
 * alternate recording off and on (the order flipped every pair), so drift of a noisy machine
 * hits both sides alike. Prints each pair's throughput ratio on/off, their median and a 95%
 * bootstrap interval of the median, and the same for p50 fault latency.
 *
 * <pre>bench/scripts/jmh-main RecordingOverheadRatio [PAIRS] [PAGES] [BACKEND] [OP] [zstd|none] [RING]</pre>
 * (defaults 20 pairs of 100000 shmem COPY faults recorded with ZSTD; the first pair is a warm-up
 * and not counted)
 */
public final class RecordingOverheadRatio {
    private RecordingOverheadRatio() {
    }

    public static void main(String[] args) throws IOException {
        int pairs = args.length > 0 ? Integer.parseInt(args[0]) : 20;
        int pages = args.length > 1 ? Integer.parseInt(args[1]) : 100_000;
        Backend backend = Backend.parse(args.length > 2 ? args[2] : "shmem");
        ResolveIoctl op = ResolveIoctl.valueOf((args.length > 3 ? args[3] : "COPY").toUpperCase(Locale.ROOT));
        Compression compression = Compression.valueOf((args.length > 4 ? args[4] : "ZSTD").toUpperCase(Locale.ROOT));
        WorkloadSpec d = WorkloadSpec.defaults(WorkloadKind.SEQUENTIAL, backend, op, pages);
        WorkloadSpec spec = d.withCompression(compression)
                .withRingCapacity(args.length > 5 ? Integer.parseInt(args[5]) : d.ringCapacity());
        WorkloadRunner runner = new WorkloadRunner(spec);
        runner.check();
        Path dir = Files.createTempDirectory("faultline-ratio");
        Path trace = dir.resolve("t.arrow");
        double[] fps = new double[pairs];
        double[] p50 = new double[pairs];
        try {
            for (int i = -1; i < pairs; i++) {
                boolean onFirst = (i & 1) == 0;
                RecordingSummary a = runner.run(onFirst ? trace : null, "ratio", p -> { });
                RecordingSummary b = runner.run(onFirst ? null : trace, "ratio", p -> { });
                RecordingSummary on = onFirst ? a : b;
                RecordingSummary off = onFirst ? b : a;
                Files.deleteIfExists(trace);
                if (i < 0) {
                    continue; // warm-up pair
                }
                fps[i] = on.faultsPerSecond() / off.faultsPerSecond();
                p50[i] = (double) on.latency().getValueAtPercentile(50) / off.latency().getValueAtPercentile(50);
                System.out.printf(Locale.ROOT, "pair %2d  faults/s on %,.0f off %,.0f  ratio %.3f   p50 on %,d off %,d ns  ratio %.3f%n",
                        i, on.faultsPerSecond(), off.faultsPerSecond(), fps[i],
                        on.latency().getValueAtPercentile(50), off.latency().getValueAtPercentile(50), p50[i]);
            }
        } finally {
            Files.deleteIfExists(trace);
            Files.deleteIfExists(dir);
        }
        report("throughput on/off", fps);
        report("p50 latency on/off", p50);
    }

    private static void report(String what, double[] ratios) {
        double[] ci = bootstrapMedian(ratios, 10_000, new SplittableRandom(42));
        System.out.printf(Locale.ROOT, "%-20s median %.3f  95%% CI [%.3f, %.3f]  over %d pairs%n", what, median(ratios),
                ci[0], ci[1], ratios.length);
    }

    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    static double[] bootstrapMedian(double[] v, int rounds, SplittableRandom r) {
        double[] medians = new double[rounds];
        double[] sample = new double[v.length];
        for (int k = 0; k < rounds; k++) {
            for (int i = 0; i < v.length; i++) {
                sample[i] = v[r.nextInt(v.length)];
            }
            medians[k] = median(sample);
        }
        Arrays.sort(medians);
        return new double[] {medians[(int) (rounds * 0.025)], medians[(int) (rounds * 0.975)]};
    }
}
