package dev.faultline.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import dev.faultline.analysis.Report;
import dev.faultline.collector.handler.ResolvePolicy;
import dev.faultline.core.probe.CapabilityProbe;
import dev.faultline.core.probe.ProbeCell;
import dev.faultline.core.region.Backend;
import dev.faultline.core.region.CpuIdle;
import dev.faultline.core.region.CpuIdleHold;
import dev.faultline.core.region.HugePages;
import dev.faultline.core.trace.OutputFile;
import dev.faultline.core.uffd.ResolveIoctl;
import org.openjdk.jmh.results.format.ResultFormatType;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code faultline bench}: runs Faultline's JMH suites and writes one JMH JSON result file that
 * {@code analyze} and {@code compare} read — so "kernel A vs kernel B" is a bench on each, then a compare.
 */
@Command(name = "bench", sortOptions = false, usageHelpAutoWidth = true, mixinStandardHelpOptions = true,
        exitCodeListHeading = ExitStatus.HEADING, exitCodeList = {ExitStatus.OK, ExitStatus.FAILED, ExitStatus.USAGE},
        description = {
            "Run Faultline's JMH suites and write their results as one JMH JSON file, which 'faultline analyze' "
                + "and 'faultline compare' read (one group per benchmark and parameters, one run per iteration).",
            "",
            "Suites: roundtrip — one fault round trip per backend × resolve op × wait strategy, only the combinations "
                + "this kernel supports (asked of the probe first; hugetlb2m only with 33 free 2M pages); traces — each "
                + "sample trace of traces/ replayed as a single shot (run from the project root); hotpaths — uffd_msg decoding, "
                + "trace writing and analysis throughput; recording — what recording costs the handler. JMH prints its progress.",
            "",
            "Examples:",
            "  faultline bench -o a.json         (on kernel A; then on kernel B: -o b.json)",
            "  faultline compare a.json b.json -o cmp",
            "  faultline bench roundtrip --quick -o rt.json",
            "  faultline analyze rt.json -o report",
            "  faultline bench --kernel 6.1.0-47-amd64 --kernel 6.1.0-50-amd64 -o b.json",
            "                                               (writes b.RELEASE.json for each)"})
final class BenchCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(paramLabel = "SUITE", arity = "0..*", description = "roundtrip, traces, hotpaths, recording or all (default: roundtrip).")
    List<String> suites = new ArrayList<>(List.of("roundtrip"));

    @Option(names = {"-o", "--output"}, paramLabel = "FILE", description = "The JMH JSON results (default: ${DEFAULT-VALUE}).")
    Path output = Path.of("bench-results.json");

    @Option(names = "--quick", description = "One measurement iteration, no warm-up: a smoke run, not a measurement.")
    boolean quick;

    @Option(names = "--backend", paramLabel = "NAME", split = ",", converter = BackendConverter.class,
            description = "Round trips on these backends only: anon, shmem, hugetlb2m (default: all three).")
    List<Backend> backends = List.of(Backend.ANON, Backend.SHMEM, Backend.HUGETLB_2M);

    @Option(names = "--cpu-idle", paramLabel = "HOW", description = "poll: hold idle CPUs in their polling state while the suites "
            + "run (as replay does: a fault's wake is then not the exit from a halted CPU); system: leave idle states to the "
            + "system's governor (default: ${DEFAULT-VALUE}).")
    String cpuIdle = "poll";

    @CommandLine.Mixin
    GuestOptions guests = new GuestOptions();

    @Override
    public Integer call() throws Exception {
        CommandLine cl = spec.commandLine();
        List<String> chosen = new ArrayList<>();
        for (String s : suites) {
            switch (s.toLowerCase(Locale.ROOT)) {
                case "roundtrip", "traces", "hotpaths", "recording" -> chosen.add(s.toLowerCase(Locale.ROOT));
                case "analyze" -> chosen.add("hotpaths");
                case "all" -> chosen.addAll(List.of("roundtrip", "traces", "hotpaths", "recording"));
                default -> throw new CommandLine.ParameterException(cl, "unknown suite '" + s
                        + "' (expected roundtrip, traces, hotpaths, recording or all)");
            }
        }
        PrintWriter err = cl.getErr();
        CpuIdle idle = Options.parse(cl, CpuIdle.class, cpuIdle, "--cpu-idle");
        if (guests.any()) {
            List<String> args = new ArrayList<>(chosen);
            args.addAll(List.of("--cpu-idle", idle.label()));
            if (quick) {
                args.add("--quick");
            }
            args.addAll(List.of("--backend", String.join(",", backends.stream().map(Backend::label).toList())));
            return KernelBench.run(args, output, guests.targets(cl), guests.config(cl), cl.getOut(), err);
        }
        Path work = Files.createTempDirectory("faultline-bench-");
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ArrayNode all = json.createArrayNode();
        try (CpuIdleHold hold = CpuIdleHold.of(idle)) {
            if (hold.refused()) {
                err.println("faultline bench: idle CPUs not held polling (" + hold.why() + "): each wake includes the exit from a halted CPU");
            }
            int part = 0;
            for (String suite : chosen) {
                for (ChainedOptionsBuilder o : runs(suite, err)) {
                    Path file = work.resolve("part" + part++ + ".json");
                    if (quick) {
                        o.warmupIterations(0).measurementIterations(1);
                    }
                    new Runner(o.resultFormat(ResultFormatType.JSON).result(file.toString()).build()).run();
                    if (Files.exists(file)) {
                        json.readTree(file.toFile()).forEach(all::add);
                    }
                }
            }
            if (all.isEmpty()) {
                throw new IllegalStateException("no benchmark produced a result (see JMH's output above)");
            }
            Path partial = OutputFile.partial(output);
            json.writeValue(partial.toFile(), all);
            Files.move(partial, output, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Report.deleteTree(work);
        }
        PrintWriter o = cl.getOut();
        o.printf(Locale.ROOT, "wrote %d results to %s; next: faultline analyze %s -o report%n", all.size(), output, output);
        o.flush();
        return 0;
    }

    /** The JMH runs of a suite: for roundtrip, one per backend with the ops the probe says work there. */
    private List<ChainedOptionsBuilder> runs(String suite, PrintWriter err) {
        List<ChainedOptionsBuilder> runs = new ArrayList<>();
        switch (suite) {
            case "analyze" -> runs.add(new OptionsBuilder().include("\\.AnalyzeThroughputBenchmark\\."));
            case "recording" -> runs.add(new OptionsBuilder().include("\\.RecordingOverheadBenchmark\\."));
            case "traces" -> runs.add(new OptionsBuilder().include("\\.SampleTraceReplayBenchmark\\."));
            case "hotpaths" -> runs.add(new OptionsBuilder().include("\\.(UffdMessageDecode|TraceWrite|AnalyzeThroughput)Benchmark\\."));
            default -> {
                CapabilityProbe probe = new CapabilityProbe();
                for (Backend b : backends) {
                    if (b == Backend.HUGETLB_1G || b == Backend.GUEST_MEMFD) {
                        err.println("faultline bench: no round-trip suite for " + b.label());
                        continue;
                    }
                    if (b.isHugetlb() && HugePages.free(b.pageSize()) < 33) {
                        err.println("faultline bench: skipping hugetlb2m: " + HugePages.free(b.pageSize()) + " free 2M pages, 33 needed; "
                                + HugePages.reserveHint(b.pageSize(), 33));
                        continue;
                    }
                    List<String> ops = new ArrayList<>();
                    for (ResolveIoctl op : List.of(ResolveIoctl.COPY, ResolveIoctl.ZEROPAGE, ResolveIoctl.CONTINUE,
                            ResolveIoctl.WRITEPROTECT, ResolveIoctl.MOVE)) {
                        ProbeCell cell = probe.probe(b, ResolvePolicy.modeOf(op), op);
                        if (cell.supported()) {
                            ops.add(op == ResolveIoctl.WRITEPROTECT ? "wp" : op.name().toLowerCase(Locale.ROOT));
                        } else {
                            err.println("faultline bench: skipping " + b.label() + " " + op + ": the kernel answers " + cell.detail());
                        }
                    }
                    if (ops.isEmpty()) {
                        continue;
                    }
                    String cls = b.isHugetlb() ? "HugeFaultRoundTripBenchmark" : "FaultRoundTripBenchmark";
                    runs.add(new OptionsBuilder().include("\\." + cls + "\\.").param("backend", b.label())
                            .param("op", ops.toArray(String[]::new)));
                }
            }
        }
        return runs;
    }
}
