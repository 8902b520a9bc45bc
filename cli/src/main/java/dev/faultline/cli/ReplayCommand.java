package dev.faultline.cli;

import dev.faultline.core.trace.OutputFile;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.faultline.analysis.GroupStats;
import dev.faultline.collector.handler.WaitStrategy;
import dev.faultline.collector.record.RecordRing;
import dev.faultline.core.trace.Compression;
import dev.faultline.core.region.CpuIdle;
import dev.faultline.core.region.CpuIdleHold;
import dev.faultline.replay.Delay;
import dev.faultline.replay.InterleavedReplay;
import dev.faultline.replay.Pace;
import dev.faultline.replay.ReplayOptions;
import dev.faultline.replay.ReplayRunner;
import dev.faultline.replay.RunResult;
import dev.faultline.replay.plan.PlanFile;
import dev.faultline.replay.plan.ReplayPlan;
import dev.faultline.replay.plan.ReplayPlanner;
import org.HdrHistogram.Histogram;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code faultline replay}: re-drives a trace on this machine's memory and kernel, writes every
 * fault's timings to a results file and prints latency per run and per (ioctl, page size, backend).
 */
@Command(name = "replay", sortOptions = false, usageHelpAutoWidth = true, mixinStandardHelpOptions = true,
        description = {
            "Replay a fault trace as a benchmark: rebuild its regions on real memory, touch the recorded pages "
                + "from one thread per recorded thread, and resolve each fault with the recorded ioctl — so that "
                + "kernel A and kernel B, shmem and hugetlb, COPY and CONTINUE can be compared on the same faults.",
            "",
            "Every fault is timed from both sides (t_fault and t_wake in the touching thread, t_read and the "
                + "ioctl's start and end in the handler); latency = t_wake - t_fault = queue + service + wake. "
                + "Results go to an Arrow file in the trace format plus a run column, for 'faultline inspect' "
                + "and the analyzer. A combination this kernel cannot do is refused before anything is mapped; "
                + "Ctrl-C stops the replay and leaves no results file.",
            "",
            "Examples:",
            "  faultline replay t.arrow -o r.arrow",
            "  faultline replay t.arrow --backend hugetlb2m --runs 5 --warmup 1",
            "  faultline replay t.arrow --resolve continue --verify",
            "  faultline replay t.arrow --pace recorded --delay 50us --handler-threads 2",
            "  faultline replay t.arrow --prefetch working-set",
            "  faultline replay t.arrow --backend shmem,anon,hugetlb2m --runs 5 -o r.arrow",
            "  faultline replay t.arrow --runs 5 -o r.arrow \\",
            "      --kernel vmlinuz-6.1.0-47-amd64 --kernel vmlinuz-6.1.0-50-amd64",
            "",
            "With --kernel (repeatable) the replay runs under each kernel named, in QEMU guests of one size over this "
                + "machine's root filesystem, one measured run at a time and interleaved (A, B, A, B …), and writes one "
                + "results file per kernel (r.RELEASE.arrow) for 'faultline compare'.",
            "",
            "A comma list on --backend, --resolve, --delay, --handler-threads or --wait makes variants (every combination of "
                + "the lists) replayed as an A/B benchmark: one measured run of each at a time, interleaved (A, B, C, then B, C, "
                + "A …), each with its warm-ups and the memory it needs written and freed first, so that drift on a shared "
                + "machine falls on all alike. Each variant gets its own results file (r.shmem.arrow, r.anon.arrow …) for "
                + "'faultline compare' and 'faultline analyze'."},
        exitCodeListHeading = "%nExit status:%n",
        exitCodeList = {"0:every run was replayed (and verified, with --verify)",
            "1:the replay failed (an unreadable trace, a combination this kernel cannot do, a failed verification); with "
                + "--kernel: a kernel refused the replay or its guest failed (the others' results are kept)",
            "2:usage error"})
final class ReplayCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "TRACE", description = "The trace to replay (from 'faultline record', a capture, or traces/).")
    Path trace;

    /** The trace already planned by the host ({@link PlanFile}), where a guest runs this replay; else null. */
    Path planFile;

    @Option(names = {"-o", "--output"}, paramLabel = "FILE",
            description = "The results file (default: TRACE-NAME.replay.arrow here). An existing file is kept as FILE.old.")
    Path output;

    @Option(names = "--no-results", description = "Keep no results file; print the summary only.")
    boolean noResults;

    @Option(names = "--backend", paramLabel = "NAME[,NAME…]",
            description = "Rebuild every region on anon, shmem, hugetlb2m or hugetlb1g instead of its recorded backend. "
                    + "A list (shmem,anon) replays each as a variant, interleaved. Results name a group's memory after its "
                    + "page size: hugetlb2m's faults read COPY 2M hugetlb.")
    String backend;

    @Option(names = "--resolve", paramLabel = "OP[,OP…]", description = "Resolve every fault with copy, zeropage, continue, wp, "
            + "move or poison instead of the recorded ioctl. A list (copy,continue) replays each as a variant, interleaved.")
    String resolve;

    @Option(names = "--threads", paramLabel = "N", description = "Faulting threads (default: one per recorded thread; fewer fold them, more deal the faults round-robin).")
    int threads;

    @Option(names = "--pace", paramLabel = "HOW", description = "full (as fast as the kernel allows), recorded (the recorded gaps) or a speed factor such as 2x (default: ${DEFAULT-VALUE}).")
    String pace = "full";

    @Option(names = "--handler-threads", paramLabel = "N[,N…]", description = "Handler threads reading the uffd (default: "
            + "${DEFAULT-VALUE}). A list (1,2) replays each as a variant, interleaved.")
    String handlerThreads = "1";

    @Option(names = "--wait", paramLabel = "HOW[,HOW…]", description = "How handler threads wait: spin or poll (default: "
            + "${DEFAULT-VALUE}). A list (spin,poll) replays each as a variant, interleaved.")
    String waitStrategy = "spin";

    @Option(names = "--delay", paramLabel = "HOW[,HOW…]", description = "Service time before each fault's ioctl: a duration (e.g. "
            + "50us: a slower backing store), or from the trace: recorded (each fault waits what the captured handler took for it, "
            + "read to ioctl start: a QEMU capture then pays its network round trips), p50 or p99 (that percentile for every "
            + "fault), dist (a seeded draw from them) (default: 0). A list (0,20us) replays each as a variant, interleaved.")
    String delay = "0";

    @Option(names = "--cpu-idle", paramLabel = "HOW", description = "poll: while replaying, hold idle CPUs in their polling "
            + "state (" + CpuIdleHold.DEVICE + " at 0), so that a fault's wake is not the exit from a halted CPU (on a virtual "
            + "machine that exit made faults 5x slower); system: leave idle states to the system's governor (default: ${DEFAULT-VALUE}).")
    String cpuIdle = "poll";

    @Option(names = "--allow-empty", description = "Accept measured runs that held no fault (by default such a replay fails: it measured nothing).")
    boolean allowEmpty;

    @Option(names = "--prefetch", paramLabel = "WHAT", description = "working-set: install every page the trace faults before the touches start, and show the difference; none (default).")
    String prefetch = "none";

    @Option(names = "--runs", paramLabel = "K", description = "Measured runs (default: ${DEFAULT-VALUE}).")
    int runs = 1;

    @Option(names = "--warmup", paramLabel = "W", description = "Runs before those, not measured, so that the JIT has compiled the fault path: at least W, and more (up to 10) while it was still compiling in the last one; 0 for none (default: ${DEFAULT-VALUE}).")
    int warmup = 1;

    @Option(names = "--verify", description = "After each run, check that every resolved page holds what was served.")
    boolean verify;

    @Option(names = "--compression", paramLabel = "CODEC", description = "zstd or none (default: ${DEFAULT-VALUE}).")
    String compression = "zstd";

    @Option(names = "--ring", paramLabel = "ROWS", description = "Rows each handler thread may queue for the writer before it drops (default: ${DEFAULT-VALUE}).")
    int ring = RecordRing.DEFAULT_CAPACITY;

    @Option(names = "--json", description = "Print the summary as one JSON object on stdout.")
    boolean json;

    @CommandLine.Mixin
    GuestOptions guests = new GuestOptions();

    @Override
    public Integer call() throws Exception {
        CommandLine cl = spec.commandLine();
        return run(cl, cl.getOut(), cl.getErr(), "faultline " + String.join(" ", cl.getParseResult().originalArgs()));
    }

    /**
     * The command's work once its options are set, by picocli or by {@link #fromGuestArgs}.
     *
     * @param cl          the command line usage errors blame; null in a guest (they are then {@link UsageError}s)
     * @param commandLine the command as the results file records it
     */
    Integer run(CommandLine cl, PrintWriter out, PrintWriter err, String commandLine) throws Exception {
        List<InterleavedReplay.Variant> variants = variants(cl);
        Path results = resultsFile();
        if (results != null) {
            OutputFile.refuseInput(results, trace);
        }
        // a wrong -o is refused before anything runs, and a second replay to the same -o while this one writes it
        try (OutputFile.Claim claim = results == null ? null : OutputFile.claim(results)) {
            return replay(cl, out, err, commandLine, variants);
        }
    }

    private Integer replay(CommandLine cl, PrintWriter out, PrintWriter err, String commandLine,
                           List<InterleavedReplay.Variant> variants) throws Exception {
        if (variants.size() > 1) {
            if (guests.any()) {
                throw Options.usage(cl, "--kernel replays one variant: give --backend, --resolve, --delay, "
                        + "--handler-threads and --wait one value each with it");
            }
            return VariantReplay.run(trace, variants, runs, noResults ? null : output != null ? output
                    : Path.of(stem(trace) + ".replay.arrow"), json, commandLine, out, err);
        }
        ReplayOptions options = variants.getFirst().options();
        // in a guest the host has planned the trace already: reading it would set up Arrow before the first fault
        ReplayPlan plan = planFile != null ? PlanFile.read(planFile) : ReplayPlanner.plan(trace, options);
        if (guests.any()) {
            if (runs < 1) {
                throw Options.usage(cl, "--runs: at least 1 with --kernel");
            }
            return KernelReplay.run(this, plan, runs, resultsFile(), guests.targets(cl), guests.config(cl), options.compression(),
                    commandLine, out, err);
        }
        ReplayRunner runner = new ReplayRunner(plan, options);
        if (planFile != null) {
            runner.spillRows(); // nor is Arrow's writer set up before the first fault
        }
        runner.check(); // refuse before mapping anything or touching any file
        Path results = resultsFile();
        boolean replacing = results != null && Files.exists(results);
        ProgressLine line = new ProgressLine(err);
        ReplayRunner.Result result;
        try {
            result = StopOnSignal.run("faultline-replay", runner::stop, () -> runner.run(results, commandLine,
                    pr -> line.show(String.format(Locale.ROOT, "%s  %3.0f%%  %,d of %,d touches  %,d faults  %,.0f faults/s",
                            pr.run() < 0 ? "warm-up" : "run " + (pr.run() + 1) + "/" + pr.runs(),
                            100.0 * pr.touched() / Math.max(1, pr.touches()), pr.touched(), pr.touches(), pr.faults(),
                            pr.faults() * 1e9 / Math.max(1, pr.nanos())))));
        } finally {
            line.clear();
        }
        if (replacing) {
            err.println("faultline replay: kept the previous " + results + " as " + results + ".old");
        }
        if (json) {
            out.println(new ObjectMapper().writeValueAsString(toJson(plan, options, result)));
        } else {
            print(plan, options, result, out);
        }
        out.flush();
        boolean verifyFailed = result.runs().stream().anyMatch(r -> r.verified() != null && !r.verified().equals("ok"));
        return verifyFailed ? 1 : 0;
    }

    /**
     * The options, checked, and the variants their lists make (one when no option holds a list).
     *
     * @param cl the command line usage errors blame; null where there is none (they are then {@link UsageError}s)
     */
    private List<InterleavedReplay.Variant> variants(CommandLine cl) {
        Pace p;
        try {
            p = Pace.parse(pace);
        } catch (IllegalArgumentException e) {
            throw Options.usage(cl, e.getMessage());
        }
        boolean prefetchAll = switch (prefetch.toLowerCase(Locale.ROOT)) {
            case "working-set" -> true;
            case "none" -> false;
            default -> throw Options.usage(cl, "--prefetch: unknown value '" + prefetch
                    + "' (expected working-set or none)");
        };
        if (ring < 1) {
            throw Options.usage(cl, "--ring must be at least 1 row, not " + ring + " (a row that finds the ring "
                    + "full is dropped and counted as lost)");
        }
        ReplayOptions base = new ReplayOptions(null, threads, p, null, 1, WaitStrategy.SPIN, Delay.NONE, prefetchAll, runs, warmup,
                verify, Options.parse(cl, Compression.class, compression, "--compression"), ring, allowEmpty,
                Options.parse(cl, CpuIdle.class, cpuIdle, "--cpu-idle"));
        return VariantReplay.variants(cl, base, backend, resolve, delay, handlerThreads, waitStrategy);
    }

    /**
     * The plan of this replay of one variant, as the host hands it to guests ({@link PlanFile}); for
     * a replay made by {@link #fromGuestArgs} without a plan (the start-up cache's training run).
     *
     * @throws UsageError for options that make more than one variant or do not parse
     */
    ReplayPlan plan() throws IOException {
        List<InterleavedReplay.Variant> variants = variants(null);
        if (variants.size() != 1) {
            throw new UsageError("a plan is of one variant, not " + variants.size());
        }
        return ReplayPlanner.plan(trace, variants.getFirst().options());
    }

    /**
     * One measured run of this replay as {@link GuestReplay} takes it inside a guest: {@code key=value}
     * arguments, one per option (long names without the dashes), with {@code trace}, the host's
     * {@code plan} of it ({@link PlanFile}) and {@code output} as the guest sees them, one run, the
     * JSON summary, and no --kernel.
     * {@link #fromGuestArgs} reads them back.
     */
    List<String> guestArgs(String traceInGuest, String planInGuest, String outputInGuest) {
        List<String> a = new ArrayList<>(List.of("trace=" + traceInGuest, "plan=" + planInGuest, "output=" + outputInGuest, "runs=1",
                "json=true"));
        if (backend != null) {
            a.add("backend=" + backend);
        }
        if (resolve != null) {
            a.add("resolve=" + resolve);
        }
        a.addAll(List.of("threads=" + threads, "pace=" + pace, "handler-threads=" + handlerThreads, "wait=" + waitStrategy,
                "delay=" + delay, "prefetch=" + prefetch, "warmup=" + warmup, "compression=" + compression, "ring=" + ring,
                "cpu-idle=" + cpuIdle, "allow-empty=" + allowEmpty, "verify=" + verify));
        return a;
    }

    /**
     * The replay that {@code args} from {@link #guestArgs} describe.
     *
     * @throws UsageError for an argument that is not {@code key=value} with a key of {@link #guestArgs}, or a
     *                    number that is none
     */
    static ReplayCommand fromGuestArgs(List<String> args) {
        ReplayCommand c = new ReplayCommand();
        for (String arg : args) {
            int eq = arg.indexOf('=');
            if (eq <= 0) {
                throw new UsageError("'" + arg + "' is not key=value");
            }
            String v = arg.substring(eq + 1);
            try {
                switch (arg.substring(0, eq)) {
                    case "trace" -> c.trace = Path.of(v);
                    case "plan" -> c.planFile = Path.of(v);
                    case "output" -> c.output = Path.of(v);
                    case "runs" -> c.runs = Integer.parseInt(v);
                    case "json" -> c.json = Boolean.parseBoolean(v);
                    case "backend" -> c.backend = v;
                    case "resolve" -> c.resolve = v;
                    case "threads" -> c.threads = Integer.parseInt(v);
                    case "pace" -> c.pace = v;
                    case "handler-threads" -> c.handlerThreads = v;
                    case "wait" -> c.waitStrategy = v;
                    case "delay" -> c.delay = v;
                    case "prefetch" -> c.prefetch = v;
                    case "warmup" -> c.warmup = Integer.parseInt(v);
                    case "compression" -> c.compression = v;
                    case "ring" -> c.ring = Integer.parseInt(v);
                    case "cpu-idle" -> c.cpuIdle = v;
                    case "allow-empty" -> c.allowEmpty = Boolean.parseBoolean(v);
                    case "verify" -> c.verify = Boolean.parseBoolean(v);
                    default -> throw new UsageError("unknown option '" + arg.substring(0, eq) + "'");
                }
            } catch (NumberFormatException e) {
                throw new UsageError(arg.substring(0, eq) + ": '" + v + "' is not a number");
            }
        }
        if (c.trace == null) {
            throw new UsageError("no trace=");
        }
        return c;
    }

    /** Where the results go: -o, else TRACE-NAME.replay.arrow here; null with --no-results. */
    private Path resultsFile() {
        return noResults ? null : output != null ? output : Path.of(stem(trace) + ".replay.arrow");
    }

    private static String stem(Path trace) {
        String name = trace.getFileName().toString();
        return name.endsWith(".arrow") ? name.substring(0, name.length() - ".arrow".length()) : name;
    }

    private static void print(ReplayPlan plan, ReplayOptions options, ReplayRunner.Result r, PrintWriter o) {
        o.printf(Locale.ROOT, "replayed %s: %,d recorded faults → %,d planned on %d thread(s)%s%n", plan.trace(),
                plan.recordedFaults(), plan.plannedFaults(), plan.scripts().size(),
                plan.folded() > 0 ? String.format(Locale.ROOT, " (%,d folded onto pages already faulted)", plan.folded()) : "");
        if (!plan.skipped().isEmpty()) {
            StringBuilder b = new StringBuilder();
            plan.skipped().forEach((what, n) -> b.append(b.isEmpty() ? "" : "; ").append(String.format(Locale.ROOT, "%,d %s", n, what)));
            o.println("  not re-driven: " + b);
        }
        if (!plan.pushes().isEmpty()) {
            o.printf(Locale.ROOT, "  pushes   %,d ioctls no fault waited on, re-issued in their recorded place among the faults%n",
                    plan.pushes().size());
        }
        if (options.delay().fromTrace()) {
            Histogram s = plan.serviceTimes();
            o.printf(Locale.ROOT, "  delay    %s: the captured handler's read -> ioctl time (p50 %s, p99 %s over %,d faults)%n",
                    options.delay().label(), Units.nanos(s.getValueAtPercentile(50)), Units.nanos(s.getValueAtPercentile(99)),
                    s.getTotalCount());
        }
        if (r.cpuIdle().startsWith(CpuIdle.SYSTEM.label() + ": ")) {
            o.println("  cpu idle not held polling (" + r.cpuIdle().substring(CpuIdle.SYSTEM.label().length() + 2)
                    + "): each wake includes the exit from a halted CPU");
        }
        if (r.results() != null) {
            o.println("  results  " + r.results());
        }
        o.printf(Locale.ROOT, "  %-8s %10s %10s %12s %10s %10s %10s%s%n", "run", "faults", "touches", "faults/s", "p50", "p99",
                "wall", options.prefetch() ? "   prefetch" : "");
        for (RunResult run : r.runs()) {
            Histogram h = r.runLatency(run.run());
            o.printf(Locale.ROOT, "  %-8s %,10d %,10d %,12.0f %10s %10s %10s%s%s%n",
                    run.warmup() ? "warm-up" : Integer.toString(run.run() + 1), run.faults(), run.touches(),
                    run.faultsPerSecond(), h == null ? "-" : Units.nanos(h.getValueAtPercentile(50)),
                    h == null ? "-" : Units.nanos(h.getValueAtPercentile(99)), Units.nanos(run.nanos()),
                    options.prefetch() ? String.format(Locale.ROOT, "   %,d ranges in %s", run.prefetched(), Units.nanos(run.prefetchNanos())) : "",
                    run.verified() == null ? "" : "   verify: " + run.verified());
        }
        if (r.onDemand() != null && !r.runs().isEmpty()) {
            RunResult last = r.runs().getLast();
            RunResult od = r.onDemand();
            o.printf(Locale.ROOT, "  prefetch  installing the working set took %s, the touches then %s with %,d faults; "
                            + "on demand they took %s with %,d faults: %s %s%n",
                    Units.nanos(last.prefetchNanos()), Units.nanos(last.nanos()), last.faults(), Units.nanos(od.nanos()),
                    od.faults(), od.nanos() >= last.nanos() ? "the touches saved" : "the touches lost",
                    Units.nanos(Math.abs(od.nanos() - last.nanos())));
        }
        o.printf(Locale.ROOT, "  %-12s %-10s %-8s %10s %10s %10s %10s %10s %10s %14s%n", "ioctl", "page", "backend", "faults",
                "p50", "p99", "queue", "service", "wake", "fault->resolve");
        for (GroupStats g : r.analysis().groups()) {
            o.printf(Locale.ROOT, "  %-12s %-10s %-8s %,10d %10s %10s %10s %10s %10s %14s%n", g.key().ioctl(), Units.pageSize(g.key().pageSize()),
                    g.key().backend(), g.faults(), p(g.latency(), 50), p(g.latency(), 99), p(g.queue(), 50), p(g.service(), 50),
                    p(g.wake(), 50), p(g.faultToResolve(), 50));
        }
        o.println("  (latency = t_wake - t_fault over the measured runs; queue, service, wake and fault->resolve are p50s;"
                + " fault->resolve, t_resolve_end - t_fault, is what a passive capture of the same faults measures)");
    }

    private static String p(Histogram h, double percentile) {
        return h.getTotalCount() == 0 ? "-" : Units.nanos(h.getValueAtPercentile(percentile));
    }

    private static Map<String, Object> toJson(ReplayPlan plan, ReplayOptions options, ReplayRunner.Result r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("trace", plan.trace().toString());
        m.put("results", r.results() == null ? null : r.results().toString());
        m.put("recorded_faults", plan.recordedFaults());
        m.put("planned_faults", plan.plannedFaults());
        m.put("threads", plan.scripts().size());
        m.put("backend", options.backend() == null ? null : options.backend().label());
        m.put("pace", options.pace().label());
        m.put("delay", options.delay().label());
        m.put("pushes", plan.pushes().size());
        m.put("cpu_idle", r.cpuIdle());
        Map<String, Long> skipped = new LinkedHashMap<>(plan.skipped());
        m.put("not_redriven", skipped);
        List<Map<String, Object>> runs = new ArrayList<>();
        List<Map<String, Object>> warmups = new ArrayList<>();
        for (RunResult run : r.runs()) {
            Map<String, Object> j = new LinkedHashMap<>();
            j.put("run", run.run());
            j.put("faults", run.faults());
            j.put("touches", run.touches());
            j.put("duration_ns", run.nanos());
            j.put("faults_per_s", Math.round(run.faultsPerSecond()));
            Histogram h = r.runLatency(run.run());
            if (!run.warmup() && h != null && h.getTotalCount() > 0) {
                j.put("p50_ns", h.getValueAtPercentile(50));
                j.put("p99_ns", h.getValueAtPercentile(99));
            }
            j.put("prefetched", run.prefetched());
            j.put("prefetch_ns", run.prefetchNanos());
            j.put("pushes", run.pushes());
            j.put("lost_events", run.lost());
            j.put("verified", run.verified());
            (run.warmup() ? warmups : runs).add(j);
        }
        m.put("runs", runs);
        m.put("warmup_runs", warmups);
        if (r.onDemand() != null) {
            m.put("on_demand_duration_ns", r.onDemand().nanos());
            m.put("on_demand_faults", r.onDemand().faults());
        }
        List<Map<String, Object>> groups = new ArrayList<>();
        for (GroupStats g : r.analysis().groups()) {
            Map<String, Object> j = new LinkedHashMap<>();
            j.put("ioctl", g.key().ioctl());
            j.put("page_size", g.key().pageSize());
            j.put("backend", g.key().backend());
            j.put("faults", g.faults());
            if (g.latency().getTotalCount() > 0) {
                j.put("p50_ns", g.latency().getValueAtPercentile(50));
                j.put("p99_ns", g.latency().getValueAtPercentile(99));
                j.put("queue_p50_ns", g.queue().getValueAtPercentile(50));
                j.put("service_p50_ns", g.service().getValueAtPercentile(50));
                j.put("wake_p50_ns", g.wake().getValueAtPercentile(50));
                j.put("fault_to_resolve_p50_ns", g.faultToResolve().getTotalCount() == 0 ? null
                        : g.faultToResolve().getValueAtPercentile(50));
            }
            groups.add(j);
        }
        m.put("groups", groups);
        return m;
    }
}
