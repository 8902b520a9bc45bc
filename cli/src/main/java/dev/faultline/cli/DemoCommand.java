package dev.faultline.cli;

import dev.faultline.analysis.Analyzer;
import dev.faultline.analysis.By;
import dev.faultline.analysis.CompareReport;
import dev.faultline.analysis.Comparison;
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
import dev.faultline.replay.ReplayException;
import dev.faultline.replay.ReplayOptions;
import dev.faultline.replay.ReplayRunner;
import dev.faultline.replay.RunResult;
import dev.faultline.replay.plan.ReplayPlanner;
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
        description = {
            "Show what Faultline does, in a minute or two on built-in defaults: probe this kernel's userfaultfd, "
                + "record four workloads under Faultline's own handler (random COPY on shmem, a 4-thread snapshot "
                + "restore, a hot/cold write-protect tracker on anon, a MINOR/CONTINUE scan), replay the random trace on "
                + "every backend this machine can give (hugetlb only where huge pages are reserved) and once more with a "
                + "slower backing store, analyze everything, compare the slow replay with the fast one, and write one "
                + "report with its findings.",
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

        List<Path> replays = new ArrayList<>();
        for (Backend b : List.of(Backend.SHMEM, Backend.ANON, Backend.HUGETLB_2M, Backend.HUGETLB_1G)) {
            Path r = replay(random, data, b, 0);
            if (r != null) {
                replays.add(r);
            }
        }
        // the same replay with a slower backing store (20 µs more per fault), for compare to judge
        Path fast = data.resolve("replay-shmem.arrow");
        Path slow = Files.exists(fast) ? replay(random, data, Backend.SHMEM, 20_000) : null;
        if (slow != null) {
            replays.add(slow);
        }
        files.addAll(replays);

        step("analyzing " + files.size() + " files");
        List<TraceAnalysis> analyses = new ArrayList<>();
        java.util.Map<Path, TraceAnalysis> byFile = new java.util.HashMap<>();
        for (Path f : files) {
            TraceAnalysis a = Analyzer.analyze(f, By.NONE).shownAs(Path.of("data", f.getFileName().toString())); // where it will be
            analyses.add(a);
            byFile.put(f, a);
        }
        List<String> findings = new ArrayList<>(findings(analyses, probe));
        Path compareDir = null;
        String verdict = null;
        if (slow != null) {
            step("comparing the shmem replay with the one 20 µs slower per fault");
            TraceAnalysis a = byFile.get(fast);
            TraceAnalysis b = byFile.get(slow);
            LatencySource source = Comparison.commonSource(a, b, null);
            List<Comparison.GroupComparison> c = Comparison.compare(a, b, source, Comparison.Settings.of(0.05));
            compareDir = work.resolve("compare");
            CompareReport.write(a, b, c, source, 0.05, compareDir, "faultline compare " + fast.getFileName() + " " + slow.getFileName());
            Comparison.PercentileChange p50 = c.getFirst().changes().getFirst();
            verdict = String.format(Locale.ROOT, "compare: 20 µs more service per fault is a %s: p50 x%.2f [%.2f, %.2f]",
                    c.getFirst().verdict().label(), p50.ratio(), p50.low(), p50.high());
            findings.add(Math.min(3, findings.size()), verdict);
        }
        StringBuilder intro = new StringBuilder("<h2>Findings</h2>\n<ul>");
        for (String f : findings) {
            intro.append("<li>").append(Report.esc(f)).append("</li>");
        }
        intro.append("</ul>\n");
        if (compareDir != null) {
            intro.append("<p><a href=\"compare/index.html\">The shmem replay compared with the same replay 20 µs slower per fault</a></p>\n");
        }
        if (!skipped.isEmpty()) {
            intro.append("<h3>Skipped on this machine</h3>\n<ul>");
            for (String s : skipped) {
                intro.append("<li>").append(Report.esc(s)).append("</li>");
            }
            intro.append("</ul>\n");
        }
        step("writing the report");
        Report.write(analyses, output, "faultline demo", intro.toString());
        if (compareDir != null) {
            Files.move(compareDir, output.resolve("compare"), StandardCopyOption.ATOMIC_MOVE);
        }
        Files.move(data, output.resolve("data"), StandardCopyOption.ATOMIC_MOVE);

        PrintWriter o = cl.getOut();
        o.printf(Locale.ROOT, "demo report: %s (%.0f s)%n", output.resolve("index.html"), (System.nanoTime() - t0) / 1e9);
        for (String f : findings.subList(0, Math.min(3, findings.size()))) {
            o.println("  " + f);
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

    private Path replay(Path trace, Path dir, Backend backend, long delayNanos) throws Exception {
        ReplayOptions o = ReplayOptions.builder().backend(backend).delayNanos(delayNanos).runs(3, 1).build();
        ReplayRunner runner;
        try {
            runner = new ReplayRunner(ReplayPlanner.plan(trace, o), o);
            runner.check();
        } catch (ReplayException e) {
            skipped.add("replaying on " + backend.label() + ": " + e.getMessage().replace(trace.toString(), trace.getFileName().toString()));
            return null;
        }
        step("replaying " + trace.getFileName() + " on " + backend.label() + (delayNanos > 0 ? " with " + Format.nanos(delayNanos)
                + " more per fault" : "") + " (warm-ups until the JIT is quiet, then 3 measured runs)");
        Path out = dir.resolve("replay-" + backend.label() + (delayNanos > 0 ? "-slower" : "") + ".arrow");
        ReplayRunner.Result r = runner.run(out, "faultline demo", p -> { });
        var last = r.runs().getLast();
        long warmUps = r.runs().stream().filter(RunResult::warmup).count();
        say(String.format(Locale.ROOT, "%,d fault%s a run, %,.0f faults/s (after %d warm-up%s)", last.faults(),
                last.faults() == 1 ? "" : "s", last.faultsPerSecond(), warmUps, warmUps == 1 ? "" : "s"));
        return out;
    }

    private static ProbeCell cell(ProbeReport probe, Backend b, ResolveIoctl op) {
        RegisterMode mode = dev.faultline.collector.handler.ResolvePolicy.modeOf(op);
        return probe.cells().stream().filter(c -> c.backend() == b && c.mode() == mode && c.ioctl() == op).findFirst().orElse(null);
    }

    /** Three-plus lines a reader takes away: what a fault costs, what bigger pages change, what the handler's part is. */
    private static List<String> findings(List<TraceAnalysis> analyses, ProbeReport probe) {
        List<String> out = new ArrayList<>();
        GroupStats shmem = null;
        GroupStats huge = null;
        GroupStats cont = null;
        for (TraceAnalysis a : analyses) {
            for (GroupStats g : a.groups()) {
                String file = a.file().getFileName().toString();
                if (file.equals("replay-shmem.arrow") && g.key().ioctl().equals("COPY")) {
                    shmem = g;
                }
                if (file.startsWith("replay-hugetlb") && g.key().ioctl().equals("COPY") && (huge == null || g.key().pageSize() > huge.key().pageSize())) {
                    huge = g;
                }
                if (g.key().ioctl().equals("CONTINUE")) {
                    cont = g;
                }
            }
        }
        if (shmem != null) {
            out.add(String.format(Locale.ROOT, "a 4K shmem fault resolved by UFFDIO_COPY takes %s at p50 (%s at p99), of which the "
                            + "handler's read-to-ioctl-end is %s", Format.nanos(shmem.latency().getValueAtPercentile(50)),
                    Format.nanos(shmem.latency().getValueAtPercentile(99)), Format.nanos(shmem.service().getValueAtPercentile(50))));
        }
        if (shmem != null && huge != null) {
            out.add(String.format(Locale.ROOT, "the same trace on %s pages faults %.0fx less (%,d vs %,d faults) at %s each",
                    Format.pageSize(huge.key().pageSize()), (double) shmem.faults() / Math.max(1, huge.faults()), huge.faults(),
                    shmem.faults(), Format.nanos(huge.latency().getValueAtPercentile(50))));
        }
        if (cont != null && shmem != null) {
            out.add(String.format(Locale.ROOT, "a MINOR fault resolved by UFFDIO_CONTINUE (page already in the page cache) takes %s at p50: "
                            + "%.2fx a COPY", Format.nanos(cont.latency().getValueAtPercentile(50)),
                    (double) cont.latency().getValueAtPercentile(50) / Math.max(1, shmem.latency().getValueAtPercentile(50))));
        }
        out.add(String.format(Locale.ROOT, "userfaultfd here: %s, opened via %s", probe.kernel(), probe.openedVia()));
        return out;
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
