package dev.faultline.bench;

import dev.faultline.collector.handler.WaitStrategy;
import dev.faultline.collector.workload.WorkloadKind;
import dev.faultline.collector.workload.WorkloadRunner;
import dev.faultline.collector.workload.WorkloadSpec;
import dev.faultline.core.region.Backend;
import dev.faultline.core.uffd.ResolveIoctl;

import java.io.IOException;
import java.util.Locale;

/**
 * What the round-trip benchmarks share: a sequential single-thread workload of {@code pages}
 * pages under the Java handler with recording off, checked against the kernel first (a
 * combination it cannot do fails with the probe's one-line reason).
 */
final class RoundTrips {
    private final WorkloadRunner runner;

    RoundTrips(String backend, String op, String wait, int pages) {
        Backend b = Backend.parse(backend);
        ResolveIoctl resolve = op.equalsIgnoreCase("wp") ? ResolveIoctl.WRITEPROTECT : ResolveIoctl.valueOf(op.toUpperCase(Locale.ROOT));
        runner = new WorkloadRunner(WorkloadSpec.defaults(WorkloadKind.SEQUENTIAL, b, resolve, pages)
                .withWaitStrategy(WaitStrategy.valueOf(wait.toUpperCase(Locale.ROOT))));
        runner.check();
    }

    /** One invocation: a fresh region, every page faulted once; returns the faults. */
    long run() throws IOException {
        return runner.run(null, "jmh", p -> { }).faults();
    }
}
