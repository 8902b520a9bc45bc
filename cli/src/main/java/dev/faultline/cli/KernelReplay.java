package dev.faultline.cli;

import dev.faultline.core.trace.OutputFile;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.faultline.analysis.Analyzer;
import dev.faultline.analysis.By;
import dev.faultline.analysis.GroupStats;
import dev.faultline.analysis.TraceAnalysis;
import dev.faultline.core.trace.Compression;
import dev.faultline.core.trace.TraceEvent;
import dev.faultline.core.trace.TraceReader;
import dev.faultline.guest.Accel;
import dev.faultline.guest.GuestConfig;
import dev.faultline.guest.GuestException;
import dev.faultline.guest.GuestVm;
import dev.faultline.replay.ResultsMerge;
import dev.faultline.replay.plan.PlanFile;
import dev.faultline.replay.plan.ReplayPlan;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code faultline replay TRACE --kernel A --kernel B --runs K}: the same replay under each kernel,
 * one measured run at a time and interleaved (A, B, A, B …), each kernel's guest booted once and
 * kept for all its runs; each run is a fresh {@code faultline replay --runs 1} inside, with its own
 * warm-up, so every run of every kernel starts from the same state. A kernel's runs are then joined
 * into one results file named after its release, ready for {@code faultline compare}.
 *
 * <p>A kernel that refuses the replay (a combination it cannot do, a trace it cannot map) is
 * dropped after one line saying why; the others go on.
 */
final class KernelReplay {
    /** The plan's file name in each session's scratch directory. */
    private static final String PLAN = "replay.plan";
    /** One kernel's side: its session while it runs, its run files, and why it stopped if it did. */
    static final class Side {
        final KernelTarget target;
        KernelSession session;
        final List<Path> runFiles = new ArrayList<>();
        final List<Long> p50s = new ArrayList<>();
        String failure;
        Path results;
        /** From handing the first run to the guest to its first measured fault (JVM start and warm-ups included). */
        Long firstFaultNanos;
        Long bootNanos;

        Side(KernelTarget target) {
            this.target = target;
        }
    }

    private KernelReplay() {
    }

    /**
     * Runs it all.
     *
     * @param replay     the replay every run repeats, one measured run at a time (its trace, options and --json)
     * @param plan       its plan, which every run is handed instead of reading the trace
     * @param output     the results file name the kernels' names are put into (null: TRACE-NAME.replay.arrow)
     * @return the exit status: 0 when every kernel did every run, 1 when one was refused or failed
     */
    static int run(ReplayCommand replay, ReplayPlan plan, int runs, Path output, List<KernelTarget> targets, GuestConfig config,
                   Compression compression, String command, PrintWriter out, PrintWriter err) throws IOException {
        Path trace = replay.trace;
        if (!Files.isReadable(trace)) {
            throw new IOException("trace " + trace + ": no such readable file");
        }
        Path work = KernelSession.workDir();
        List<Side> sides = new ArrayList<>();
        for (KernelTarget t : targets) {
            sides.add(new Side(t));
        }
        ProgressLine line = new ProgressLine(err);
        boolean failed = false;
        try {
            for (int i = 0; i < sides.size(); i++) {
                Side s = sides.get(i);
                try {
                    s.session = KernelSession.open(s.target, config, work.resolve("kernel-" + i), err);
                } catch (GuestException e) {
                    fail(s, e, err);
                }
            }
            // the guests read the plan, not the trace: its path only names it, wherever it lies
            String traceArg = trace.toAbsolutePath().normalize().toString();
            for (Side s : sides) {
                if (s.session != null) {
                    PlanFile.write(plan, s.session.scratch.resolve(PLAN)); // the guests read no Arrow before their first fault
                }
            }
            for (int run = 0; run < runs; run++) {
                for (Side s : sides) {
                    if (s.failure != null) {
                        continue;
                    }
                    String name = "run-" + run + ".arrow";
                    List<String> args = replay.guestArgs(traceArg, s.session.path(PLAN), s.session.path(name));
                    String label = s.target.label();
                    int shown = run + 1;
                    long handedOver = System.nanoTime();
                    try {
                        GuestVm.Result r = s.session.replay(args, p -> line.show(label + "  run " + shown + "/" + runs + "  " + p));
                        line.clear();
                        if (r.exit() != 0) {
                            String why = KernelSession.why(r);
                            s.failure = r.exit() > 128 ? "run " + shown + "'s JVM died of signal " + (r.exit() - 128) + ": " + why
                                    : (run == 0 ? "refused: " : "run " + shown + " failed: ") + why;
                            err.println("faultline replay: " + label + ": " + s.failure);
                            continue;
                        }
                        JsonNode summary;
                        try {
                            summary = new ObjectMapper().readTree(r.out());
                        } catch (IOException e) {
                            s.failure = "run " + shown + " printed no readable summary: " + e.getMessage().lines().findFirst().orElse("");
                            err.println("faultline replay: " + label + ": " + s.failure);
                            continue;
                        }
                        JsonNode first = summary.path("runs").path(0);
                        s.p50s.add(first.path("p50_ns").isMissingNode() ? null : first.path("p50_ns").asLong());
                        Path file = s.session.scratch.resolve(name);
                        s.runFiles.add(file);
                        if (run == 0 && s.session instanceof KernelSession.Guest g) {
                            long t = firstFault(file);
                            if (t > 0) {
                                s.bootNanos = g.vm.bootNanos();
                                s.firstFaultNanos = g.vm.hostNanosAt(t) - handedOver;
                            }
                        }
                        err.printf(Locale.ROOT, "%s: run %d/%d: %,d faults, p50 %s, p99 %s%n", label, shown, runs,
                                first.path("faults").asLong(), nanos(first.path("p50_ns")), nanos(first.path("p99_ns")));
                    } catch (GuestException e) {
                        line.clear();
                        fail(s, e, err);
                    }
                    err.flush();
                }
            }
            for (Side s : sides) {
                if (!s.runFiles.isEmpty() && output != null) {
                    s.results = s.target.fileFor(output, ".arrow");
                    Map<String, String> extra = new LinkedHashMap<>();
                    extra.put("runs_in", s.session.describe());
                    extra.put("interleaved_with", String.join(",", sides.stream().filter(o -> o != s).map(o -> o.target.label()).toList()));
                    extra.put("cross_kernel_command", command);
                    Path old = OutputFile.keepPrevious(s.results);
                    if (old != null) {
                        err.println("faultline replay: kept the previous " + s.results + " as " + old);
                    }
                    ResultsMerge.merge(s.runFiles, s.results, extra, compression);
                }
                failed |= s.failure != null;
            }
        } finally {
            line.clear();
            for (Side s : sides) {
                if (s.session != null) {
                    s.session.close();
                }
            }
            KernelSession.finish(work, sides.stream().anyMatch(s -> s.failure != null && !s.target.isHost()), "replay", err);
        }
        if (replay.json) {
            out.println(new ObjectMapper().writeValueAsString(toJson(sides, config)));
        } else {
            print(sides, config, runs, out);
        }
        out.flush();
        return failed ? 1 : 0;
    }

    private static void fail(Side s, GuestException e, PrintWriter err) {
        s.failure = e.getMessage();
        KernelSession.report("replay", e, err);
    }

    private static long firstFault(Path file) throws IOException {
        long first = Long.MAX_VALUE;
        TraceEvent e = new TraceEvent();
        try (TraceReader r = TraceReader.open(file)) {
            while (r.nextBatch()) {
                for (int i = 0; i < r.batchRows(); i++) {
                    r.read(i, e);
                    if (e.tFault > 0) {
                        first = Math.min(first, e.tFault);
                    }
                }
            }
        }
        return first == Long.MAX_VALUE ? -1 : first;
    }

    private static String nanos(JsonNode n) {
        return n.isMissingNode() || n.isNull() ? "-" : Units.nanos(n.asLong());
    }

    private static void print(List<Side> sides, GuestConfig config, int runs, PrintWriter o) throws IOException {
        o.printf(Locale.ROOT, "replayed under %d kernel%s, %d interleaved run%s each%n", sides.size(), sides.size() == 1 ? "" : "s",
                runs, runs == 1 ? "" : "s");
        for (Side s : sides) {
            o.printf(Locale.ROOT, "  %s (%s)%n", s.target.label(), s.session == null ? "not booted" : s.session.describe());
            if (s.failure != null) {
                o.println("    " + s.failure);
            }
            if (s.firstFaultNanos != null) {
                o.printf(Locale.ROOT, "    boot %s, then the first measured fault %s into the first run (its JVM's start and warm-up)%n",
                        Units.nanos(s.bootNanos), Units.nanos(s.firstFaultNanos));
            }
            if (!s.p50s.isEmpty()) {
                o.println("    p50 per run  " + String.join("  ", s.p50s.stream().map(p -> p == null ? "-" : Units.nanos(p)).toList()));
            }
            if (s.results != null) {
                o.println("    results      " + s.results);
                TraceAnalysis a = Analyzer.analyze(s.results, By.NONE);
                for (GroupStats g : a.groups()) {
                    o.printf(Locale.ROOT, "    %-12s %-8s %-8s %,10d faults  p50 %9s  p99 %9s%n", g.key().ioctl(),
                            Units.pageSize(g.key().pageSize()), g.key().backend(), g.faults(),
                            g.latency().getTotalCount() == 0 ? "-" : Units.nanos(g.latency().getValueAtPercentile(50)),
                            g.latency().getTotalCount() == 0 ? "-" : Units.nanos(g.latency().getValueAtPercentile(99)));
                }
            }
        }
        List<Side> done = sides.stream().filter(s -> s.results != null).toList();
        if (done.size() >= 2) {
            o.println("  compare: faultline compare " + done.get(0).results + " " + done.get(1).results);
        }
        if (sides.stream().anyMatch(s -> s.session instanceof KernelSession.Guest)) {
            o.println("  guests: " + config.describe() + (config.accel() == Accel.TCG
                    ? " — TCG emulates every instruction: these timings are for function, not for a verdict" : "")
                    + (Accel.hostIsVirtual() ? "; this machine is itself a VM, so its guests are nested" : "")
                    + (sides.stream().anyMatch(s -> s.target.isHost()) ? "; compare guests with guests when timing matters" : ""));
        }
    }

    private static Map<String, Object> toJson(List<Side> sides, GuestConfig config) {
        List<Object> kernels = new ArrayList<>();
        for (Side s : sides) {
            Map<String, Object> k = new LinkedHashMap<>();
            k.put("kernel", s.target.label());
            k.put("image", s.target.isHost() ? "host" : s.target.image().image().toString());
            k.put("runs_in", s.session == null ? null : s.session.describe());
            k.put("failure", s.failure);
            k.put("results", s.results == null ? null : s.results.toString());
            k.put("p50_ns_per_run", s.p50s);
            k.put("boot_ns", s.bootNanos);
            k.put("first_fault_into_first_run_ns", s.firstFaultNanos);
            kernels.add(k);
        }
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("guest", config.describe());
        o.put("kernels", kernels);
        return o;
    }
}
