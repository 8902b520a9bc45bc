package dev.faultline.cli;

import dev.faultline.analysis.Analyzer;
import dev.faultline.analysis.By;
import dev.faultline.analysis.CompareReport;
import dev.faultline.analysis.Comparison;
import dev.faultline.analysis.ComparisonView;
import dev.faultline.analysis.Format;
import dev.faultline.analysis.GroupStats;
import dev.faultline.analysis.LatencySource;
import dev.faultline.analysis.Report;
import dev.faultline.analysis.TraceAnalysis;
import dev.faultline.collector.workload.RecordingSummary;
import dev.faultline.collector.workload.WorkloadKind;
import dev.faultline.collector.workload.WorkloadRunner;
import dev.faultline.collector.workload.WorkloadSpec;
import dev.faultline.core.probe.CapabilityProbe;
import dev.faultline.core.probe.ProbeCell;
import dev.faultline.core.probe.ProbeReport;
import dev.faultline.core.region.Backend;
import dev.faultline.core.region.CpuIdleHold;
import dev.faultline.core.uffd.RegisterMode;
import dev.faultline.core.uffd.ResolveIoctl;
import dev.faultline.replay.InterleavedReplay;
import dev.faultline.replay.ReplayException;
import dev.faultline.replay.ReplayOptions;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code faultline demo}: the whole pipeline on built-in defaults — probe, record a few workloads,
 * replay one trace on every backend this machine can give, analyze and compare — into one report.
 */
@Command(name = "demo", sortOptions = false, usageHelpAutoWidth = true, mixinStandardHelpOptions = true,
        exitCodeListHeading = ExitStatus.HEADING, exitCodeList = {ExitStatus.OK, ExitStatus.FAILED, ExitStatus.USAGE},
        description = {
            "Show what Faultline does, in about half a minute on built-in defaults: probe this kernel's userfaultfd, "
                + "record four workloads under Faultline's own handler (random COPY on shmem, a 4-thread snapshot "
                + "restore, a hot/cold write-protect tracker on anon, a MINOR/CONTINUE scan), replay the random trace on "
                + "every backend this machine can give (hugetlb only where huge pages are reserved) and once more with a "
                + "slower backing store, all interleaved, analyze everything into one report that opens with their "
                + "comparison, compare the slow replay with the fast one, and print findings that name their comparison.",
            "",
            "What cannot run here (no huge pages reserved, fewer privileges) is skipped and said so; the traces and "
                + "results stay in DIR/data for 'faultline inspect', 'replay' and 'analyze'."})
final class DemoCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = {"-o", "--output"}, paramLabel = "DIR", description = "The report directory (default: ${DEFAULT-VALUE}).")
    Path output = Path.of("demo-report");

    @Option(names = "--pages", paramLabel = "N", description = "Pages of the random workload (default: ${DEFAULT-VALUE}; the others scale from it).")
    int pages = 20_000;

    /** Measured runs of each replay variant, interleaved. */
    private static final int ROUNDS = 3;
    /** The slower backing store the compare step judges: this much more service per fault. */
    private static final long SLOWER_NANOS = 20_000;

    private PrintWriter err;
    private final List<String> skipped = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
        CommandLine cl = spec.commandLine();
        err = cl.getErr();
        if (pages < 512 || pages > 1_000_000) {
            throw new CommandLine.ParameterException(cl, "--pages must be between 512 and 1000000, not " + pages);
        }
        Report.checkReplaceable(output);
        Path work = Files.createTempDirectory(output.toAbsolutePath().getParent(), ".faultline-demo-");
        try (CpuIdleHold idle = CpuIdleHold.poll()) { // what record and replay do by default, for the recordings too
            if (!idle.held()) {
                err.println("demo: idle CPUs not held polling (" + idle.why() + "): each wake includes the exit from a halted CPU");
            }
            return run(cl, work);
        } finally {
            deleteQuietly(work);
        }
    }

    private int run(CommandLine cl, Path work) throws Exception {
        long t0 = System.nanoTime();
        step("probing this kernel's userfaultfd (every backend × mode × ioctl, each with a real fault)");
        ProbeReport probe = new CapabilityProbe().run(List.of(Backend.ANON, Backend.SHMEM, Backend.HUGETLB_2M, Backend.HUGETLB_1G), b -> { });
        long ok = probe.cells().stream().filter(ProbeCell::supported).count();
        say(String.format(Locale.ROOT, "kernel %s, userfaultfd opened via %s: %d of %d combinations work", probe.kernel(),
                probe.openedVia(), ok, probe.cells().size()));

        Path data = work.resolve("data");
        Files.createDirectories(data);
        List<Path> files = new ArrayList<>();
        Path random = record(probe, data, WorkloadKind.RANDOM, Backend.SHMEM, ResolveIoctl.COPY, pages, 2);
        files.add(random);
        files.add(record(probe, data, WorkloadKind.RESTORE, Backend.SHMEM, ResolveIoctl.COPY, pages, 4));
        files.add(record(probe, data, WorkloadKind.ZIPF, Backend.ANON, ResolveIoctl.WRITEPROTECT, pages / 2, 2));
        files.add(record(probe, data, WorkloadKind.SEQUENTIAL, Backend.SHMEM, ResolveIoctl.CONTINUE, pages, 1));
        files.removeIf(java.util.Objects::isNull);
        if (random == null) {
            throw new ReplayException("this machine cannot record the demo's random shmem COPY workload; 'faultline probe -v' says why");
        }

        // the random trace on every backend here and once more 20 µs slower per fault, interleaved
        // (round 1: A, B, C …; round 2: B, C, … A), one results file per variant
        List<InterleavedReplay.Variant> variants = new ArrayList<>();
        for (Backend b : List.of(Backend.SHMEM, Backend.ANON, Backend.HUGETLB_2M, Backend.HUGETLB_1G)) {
            variants.add(new InterleavedReplay.Variant(b.label(), ReplayOptions.builder().backend(b).runs(1, 1).build()));
        }
        variants.add(new InterleavedReplay.Variant("shmem-slower",
                ReplayOptions.builder().backend(Backend.SHMEM).delayNanos(SLOWER_NANOS).runs(1, 1).build()));
        step("replaying " + random.getFileName() + " on " + String.join(", ", variants.stream().map(InterleavedReplay.Variant::label).toList())
                + ": " + ROUNDS + " interleaved runs each, each with its warm-ups");
        InterleavedReplay interleaved = new InterleavedReplay(random, variants, ROUNDS);
        interleaved.run(label -> data.resolve("replay-" + label + ".arrow"), "faultline demo",
                side -> skipped.add("replaying on " + side.variant().label() + ": "
                        + side.failure().replace(random.toString(), random.getFileName().toString())), p -> { });
        for (InterleavedReplay.Side side : interleaved.sides()) {
            if (side.results() != null) {
                files.add(side.results());
                say(String.format(Locale.ROOT, "%-13s %,d faults a run, %,.0f faults/s (median of %d runs)", side.variant().label(),
                        side.runs().getLast().faults(), VariantReplay.medianFaultsPerSecond(side), side.runs().size()));
            }
        }
        Path fast = data.resolve("replay-shmem.arrow");
        Path slow = data.resolve("replay-shmem-slower.arrow");

        step("analyzing " + files.size() + " files");
        List<TraceAnalysis> analyses = new ArrayList<>();
        java.util.Map<Path, TraceAnalysis> byFile = new java.util.HashMap<>();
        for (Path f : files) {
            TraceAnalysis a = Analyzer.analyze(f, By.NONE).shownAs(Path.of("data", f.getFileName().toString())); // where it will be
            analyses.add(a);
            byFile.put(f, a);
        }
        int baseline = files.indexOf(fast);
        List<Finding> findings = new ArrayList<>(findings(analyses, probe));
        Path compareDir = null;
        if (Files.exists(fast) && Files.exists(slow)) {
            step("comparing the shmem replay with the one 20 µs slower per fault");
            TraceAnalysis a = byFile.get(fast);
            TraceAnalysis b = byFile.get(slow);
            LatencySource source = Comparison.commonSource(a, b, null);
            List<Comparison.GroupComparison> c = Comparison.compare(a, b, source, Comparison.Settings.of(0.05));
            compareDir = work.resolve("compare");
            CompareReport.write(a, b, c, source, 0.05, compareDir, "faultline compare " + fast.getFileName() + " " + slow.getFileName());
            Comparison.PercentileChange p50 = c.getFirst().changes().getFirst();
            findings.add(Math.min(3, findings.size()), new Finding(String.format(Locale.ROOT,
                    "shmem vs shmem 20 µs slower per fault (faultline compare): a %s, p50 x%.2f [%.2f, %.2f]",
                    c.getFirst().verdict().label(), p50.ratio(), p50.low(), p50.high()), "compare/index.html"));
        }
        StringBuilder intro = new StringBuilder("<h2>Findings</h2>\n<ul>");
        for (Finding f : findings) {
            intro.append("<li>").append(Report.esc(f.text()));
            if (f.link() != null) {
                intro.append(" (<a href=\"").append(Report.esc(f.link())).append("\">").append(f.link().startsWith("#") ? "chart" : "report")
                        .append("</a>)");
            }
            intro.append("</li>");
        }
        intro.append("</ul>\n");
        if (!skipped.isEmpty()) {
            intro.append("<h3>Skipped on this machine</h3>\n<ul>");
            for (String s : skipped) {
                intro.append("<li>").append(Report.esc(s)).append("</li>");
            }
            intro.append("</ul>\n");
        }
        step("writing the report");
        Report.write(analyses, output, "faultline demo", intro.toString(), Math.max(0, baseline));
        if (compareDir != null) {
            Files.move(compareDir, output.resolve("compare"), StandardCopyOption.ATOMIC_MOVE);
        }
        Files.move(data, output.resolve("data"), StandardCopyOption.ATOMIC_MOVE);

        PrintWriter o = cl.getOut();
        o.printf(Locale.ROOT, "demo report: %s (%.0f s)%n", output.resolve("index.html"), (System.nanoTime() - t0) / 1e9);
        for (Finding f : findings.subList(0, Math.min(4, findings.size()))) {
            o.println("  " + f.text());
        }
        for (String s : skipped) {
            o.println("  skipped: " + s);
        }
        o.flush();
        return 0;
    }

    private Path record(ProbeReport probe, Path dir, WorkloadKind kind, Backend backend, ResolveIoctl op, int n, int threads)
            throws Exception {
        String what = kind.label() + " " + backend.label() + " " + op;
        ProbeCell cell = cell(probe, backend, op);
        if (cell == null || !cell.supported()) {
            skipped.add("recording " + what + ": " + (cell == null ? "not probed" : cell.detail()));
            return null;
        }
        step("recording " + what + " (" + n + " pages, " + threads + " thread" + (threads > 1 ? "s" : "") + ")");
        WorkloadSpec s = WorkloadSpec.defaults(kind, backend, op, n).withThreads(threads);
        Path out = dir.resolve(kind.label() + "-" + backend.label() + "-" + op.name().toLowerCase(Locale.ROOT) + ".arrow");
        RecordingSummary r = new WorkloadRunner(s).run(out, "faultline demo", p -> { });
        say(String.format(Locale.ROOT, "%,d faults, %,.0f faults/s, p50 %s", r.faults(), r.faultsPerSecond(),
                Format.nanos(r.latency().getValueAtPercentile(50))));
        return out;
    }

    private static ProbeCell cell(ProbeReport probe, Backend b, ResolveIoctl op) {
        RegisterMode mode = dev.faultline.collector.handler.ResolvePolicy.modeOf(op);
        return probe.cells().stream().filter(c -> c.backend() == b && c.mode() == mode && c.ioctl() == op).findFirst().orElse(null);
    }

    /** One line a reader takes away, and where in the report it comes from (an anchor or a page; null for none). */
    record Finding(String text, String link) {
    }

    /**
     * What a reader takes away, each naming the comparison it comes from: what a fault costs and the
     * handler's part of it; anon vs shmem and 4K vs 2M (replays of one trace, interleaved); COPY vs
     * CONTINUE (two of the recordings); the kernel.
     */
    private static List<Finding> findings(List<TraceAnalysis> analyses, ProbeReport probe) {
        List<Finding> out = new ArrayList<>();
        List<ComparisonView.Row> rows = ComparisonView.rows(analyses);
        ComparisonView.Row shmem = row(rows, "replay-shmem", "COPY");
        ComparisonView.Row anon = row(rows, "replay-anon", "COPY");
        // 2M before 1G: the demo's trace gives 1G one fault a run, too few for a p50 to mean much
        ComparisonView.Row huge = row(rows, "replay-hugetlb2m", "COPY");
        if (huge == null) {
            huge = row(rows, "replay-hugetlb1g", "COPY");
        }
        ComparisonView.Row cont = rows.stream().filter(r -> r.group().key().ioctl().equals("CONTINUE")).findFirst().orElse(null);
        String chart = "#" + ComparisonView.ID + "-percentiles";
        if (shmem != null) {
            GroupStats g = shmem.group();
            out.add(new Finding(String.format(Locale.ROOT, "a 4K shmem fault resolved by UFFDIO_COPY takes %s at p50 (%s at p99); on "
                            + "average %s of it waits to be read, %s is the handler's read-to-ioctl-end, %s the wake",
                    Format.nanos(g.latency().getValueAtPercentile(50)), Format.nanos(g.latency().getValueAtPercentile(99)),
                    Format.nanos(g.queue().getMean()), Format.nanos(g.service().getMean()), Format.nanos(g.wake().getMean())),
                    "#" + ComparisonView.ID + "-split"));
        }
        if (shmem != null && anon != null) {
            double p50 = anon.group().latency().getValueAtPercentile(50) / (double) Math.max(1, shmem.group().latency().getValueAtPercentile(50));
            out.add(new Finding(String.format(Locale.ROOT, "anon vs shmem, the same trace interleaved: anon is %s per fault at p50 "
                            + "(%s vs %s, x%.2f) and populates its %s MiB in %s vs %s", p50 < 0.95 ? "faster" : p50 > 1.05 ? "slower" : "as fast",
                    Format.nanos(anon.group().latency().getValueAtPercentile(50)), Format.nanos(shmem.group().latency().getValueAtPercentile(50)),
                    p50, Format.mib(anon.mib()), Format.nanos(anon.populateNanos()), Format.nanos(shmem.populateNanos())), chart));
        }
        if (shmem != null && huge != null) {
            out.add(new Finding(String.format(Locale.ROOT, "4K vs %s pages, the same trace: %.0fx fewer faults (%,d vs %,d a run), "
                            + "%s vs %s each at p50, and the working set populated in %s vs %s (x%.2f): compare by the whole run, not per fault",
                    Format.pageSize(huge.group().key().pageSize()), (double) shmem.group().faults() / Math.max(1, huge.group().faults()),
                    huge.group().faults() / ROUNDS, shmem.group().faults() / ROUNDS,
                    Format.nanos(huge.group().latency().getValueAtPercentile(50)), Format.nanos(shmem.group().latency().getValueAtPercentile(50)),
                    Format.nanos(huge.populateNanos()), Format.nanos(shmem.populateNanos()), huge.populateNanos() / shmem.populateNanos()),
                    "#" + ComparisonView.ID + "-boxes"));
        }
        ComparisonView.Row copy = row(rows, "random-shmem-copy", "COPY");
        if (cont != null && copy != null) {
            out.add(new Finding(String.format(Locale.ROOT, "COPY vs CONTINUE, two of the recordings: a MINOR fault resolved by "
                            + "UFFDIO_CONTINUE (the page already in the page cache) takes %s at p50, %.2fx a 4K shmem COPY (%s)",
                    Format.nanos(cont.group().latency().getValueAtPercentile(50)),
                    (double) cont.group().latency().getValueAtPercentile(50) / Math.max(1, copy.group().latency().getValueAtPercentile(50)),
                    Format.nanos(copy.group().latency().getValueAtPercentile(50))), chart));
        }
        out.add(new Finding(String.format(Locale.ROOT, "userfaultfd here: %s, opened via %s", probe.kernel(), probe.openedVia()), null));
        return out;
    }

    /** The row of file {@code name} (without .arrow) whose ioctl is {@code ioctl}, or null. */
    private static ComparisonView.Row row(List<ComparisonView.Row> rows, String name, String ioctl) {
        return rows.stream().filter(r -> r.name().equals(name) && r.group().key().ioctl().equals(ioctl)).findFirst().orElse(null);
    }

    private void step(String what) {
        err.println("demo: " + what);
        err.flush();
    }

    private void say(String what) {
        err.println("      " + what);
        err.flush();
    }

    private static void deleteQuietly(Path p) {
        try {
            Report.deleteTree(p);
        } catch (java.io.IOException | java.io.UncheckedIOException ignored) {
            // a temporary directory left behind is not worth failing the demo for
        }
    }
}
