package dev.faultline.cli;

import dev.faultline.core.trace.OutputFile;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.faultline.collector.handler.WaitStrategy;
import dev.faultline.collector.passive.PassiveCapture;
import dev.faultline.collector.record.RecordRing;
import dev.faultline.collector.workload.RecordingSummary;
import dev.faultline.collector.touch.TouchKind;
import dev.faultline.collector.workload.WorkloadKind;
import dev.faultline.collector.workload.WorkloadRunner;
import dev.faultline.core.region.CpuIdle;
import dev.faultline.core.region.CpuIdleHold;
import dev.faultline.collector.workload.WorkloadSpec;
import dev.faultline.core.region.Backend;
import dev.faultline.core.trace.Compression;
import dev.faultline.core.uffd.ResolveIoctl;
import org.HdrHistogram.Histogram;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code faultline record}: runs a built-in workload under the recording Java handler and writes
 * its trace, with progress on stderr and a one-screen summary at the end.
 */
@Command(name = "record", sortOptions = false, usageHelpAutoWidth = true, mixinStandardHelpOptions = true,
        exitCodeListHeading = ExitStatus.HEADING, exitCodeList = {ExitStatus.OK, ExitStatus.FAILED, ExitStatus.USAGE, "127:the command after -- was not found: nothing ran"},
        description = {
            "Record a fault trace: run a built-in workload under Faultline's own userfaultfd handler and write "
                + "every fault and every resolving ioctl, with its timings, to a trace file.",
            "",
            "The faulting threads are ours, so each fault is timed from both sides: t_fault and t_wake in the "
                + "thread that touched the page, t_read and the ioctl's start and end in the handler. The summary's "
                + "latency is t_wake - t_fault. The trace is flushed at least every half second; a recording that is "
                + "killed leaves a file that 'faultline inspect' reads up to the last flush. Ctrl-C stops the "
                + "workload early and finishes the file.",
            "",
            "Examples:",
            "  faultline record --workload random --backend shmem --pages 100000 -o t.arrow",
            "  faultline record --backend hugetlb2m --pages 32 --resolve continue",
            "  faultline record --workload restore --image vm.mem --pages 262144 --threads 4",
            "  faultline record --workload zipf --resolve wp --backend anon --wait poll",
            "",
            "Passive capture of any process's handler (C, Rust, QEMU, another JVM), unmodified, with a BPF program on "
                + "tracepoints:",
            "  faultline record --pid $(pgrep -f 'qemu.*-incoming') \\",
            "      --qmp /run/qemu-dst.qmp -o postcopy.arrow",
            "  faultline record -o floor.arrow -- ./uffd_floor shmem copy 20000 spin",
            "  faultline record --pid 4242 --detail summary --interval 10s -o fleet.arrow",
            "It needs root and libbpf (apt-get install libbpf1). --pid attaches to a running process (regions it "
                + "registered already come from /proc/PID/smaps); one with no userfaultfd yet is waited for, as QEMU opens "
                + "its uffd only when postcopy starts. '-- COMMAND' starts one and traces it from its first instruction. "
                + "While the process has no userfaultfd, the first process it starts (or they start) that opens one is "
                + "traced in its place: a handler run by a wrapper script ('-- sh -c ./handler') or a launcher. "
                + "Either stops on Ctrl-C, --duration or within a second of the process's exit, and always finishes the "
                + "file. A passive trace's latency is fault -> resolve (page_fault_user to the resolving ioctl's exit), "
                + "split into queue (fault -> read) and service (read -> resolve)."})
final class RecordCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--pid", paramLabel = "PID", description = "Capture the uffd handler of this running process, or of "
            + "the first process it starts that opens a uffd (passive, with a BPF program).")
    Integer pid;

    @Option(names = "--duration", paramLabel = "DURATION", description = "Passive capture: stop this long after the probes were attached (e.g. 30s, 500ms; default: until the process exits or Ctrl-C).")
    String duration;

    @Option(names = "--detail", paramLabel = "LEVEL", description = "Passive capture: events (a row per fault and per ioctl no fault "
            + "waited on) or summary (latency histograms and counts per region x ioctl, kept in the kernel; least cost) "
            + "(default: ${DEFAULT-VALUE}).")
    String detail = "events";

    @Option(names = "--interval", paramLabel = "DURATION", description = "Passive capture with --detail summary: also write the "
            + "histograms of each interval this long (e.g. 10s; default: once, at the end).")
    String interval;

    @Option(names = "--qmp", paramLabel = "SOCKET", description = "Passive capture of QEMU: a QMP socket of its own (-qmp unix:SOCKET,"
            + "server=on,wait=off) to name the regions by RAMBlock (pc.ram, ram0, pc.bios, ...).")
    Path qmp;

    @CommandLine.Parameters(paramLabel = "COMMAND", arity = "0..*",
            description = "After '--': a command to start and capture passively from its first instruction.")
    java.util.List<String> command;

    @Option(names = "--workload", paramLabel = "NAME", description = "sequential, random, strided, zipf or restore (default: ${DEFAULT-VALUE}).")
    String workload = "sequential";

    @Option(names = "--backend", paramLabel = "NAME", converter = BackendConverter.class,
            description = "anon, shmem, hugetlb2m or hugetlb1g (default: shmem).")
    Backend backend = Backend.SHMEM;

    @Option(names = "--resolve", paramLabel = "OP", description = "How faults are resolved: copy, zeropage, continue, wp, move or poison (default: ${DEFAULT-VALUE}).")
    String resolve = "copy";

    @Option(names = "--pages", paramLabel = "N", description = "Pages in the region (default: ${DEFAULT-VALUE}).")
    int pages = 10_000;

    @Option(names = "--threads", paramLabel = "N", description = "Faulting threads (default: 1; restore: 4). Each owns its pages.")
    Integer threads;

    @Option(names = "--handler-threads", paramLabel = "N", description = "Handler threads reading the uffd (default: ${DEFAULT-VALUE}).")
    int handlerThreads = 1;

    @Option(names = "--touch", paramLabel = "HOW", description = "read, write or kernel (default: write; kernel for poison).")
    String touch;

    @Option(names = "--wait", paramLabel = "HOW", description = "How handler threads wait: spin (lowest latency, a busy core) or poll (default: ${DEFAULT-VALUE}).")
    String waitStrategy = "spin";

    @Option(names = "--compression", paramLabel = "CODEC", description = "zstd or none (none for Arrow readers without codecs; default: ${DEFAULT-VALUE}).")
    String compression = "zstd";

    @Option(names = "--rate", paramLabel = "N", description = "Touches per second, all threads together (default: as fast as the kernel allows).")
    long rate;

    @Option(names = "--stride", paramLabel = "N", description = "Pages between touches of the strided workload (default: ${DEFAULT-VALUE}).")
    int stride = 16;

    @Option(names = "--image", paramLabel = "FILE", description = "Serve page content from this file (a memory image) instead of a byte pattern.")
    Path image;

    @Option(names = "--seed", paramLabel = "N", description = "Seed of the random orders (default: ${DEFAULT-VALUE}).")
    long seed = 1;

    @Option(names = "--ring", paramLabel = "ROWS", description = "Rows each handler thread may queue for the writer before it drops (default: ${DEFAULT-VALUE}).")
    int ring = RecordRing.DEFAULT_CAPACITY;

    @Option(names = {"-o", "--output"}, paramLabel = "FILE",
            description = "The trace to write (default: faultline-WORKLOAD-BACKEND-OP.arrow here). An existing file is kept as FILE.old.")
    Path output;

    @Option(names = "--warmup", paramLabel = "PAGES",
            description = "Fault this many pages first, untraced, so the JIT has compiled the handler before the recording, "
                    + "and again while it was still compiling (up to 5 runs; default: ${DEFAULT-VALUE}; at most --pages and "
                    + "256 MiB; hugetlb warms on 4K shmem pages; 0: none).")
    int warmup = 20_000;

    @Option(names = "--no-trace", description = "Run the handler with recording off (to measure what recording costs).")
    boolean noTrace;

    @Option(names = "--json", description = "Print the summary as one JSON object on stdout.")
    boolean json;

    @Option(names = "--cpu-idle", paramLabel = "HOW", description = "A workload: poll holds idle CPUs in their polling state while "
            + "it runs (as replay does: a fault's wake is then not the exit from a halted CPU); system leaves idle states to the "
            + "system's governor (default: ${DEFAULT-VALUE}). A passive capture never changes them.")
    String cpuIdle = "poll";

    @Override
    public Integer call() throws Exception {
        try {
            return record();
        } finally {
            if (claim != null) {
                claim.close();
            }
        }
    }

    /** The output this command is writing, claimed against a second writer; null before it is known. */
    private OutputFile.Claim claim;

    private Integer record() throws Exception {
        CommandLine cl = spec.commandLine();
        if (pid != null || (command != null && !command.isEmpty())) {
            if (pid != null && command != null && !command.isEmpty()) {
                throw new CommandLine.ParameterException(cl, "give --pid or '-- COMMAND', not both");
            }
            long nanos = duration == null ? 0 : Options.durationNanos(cl, duration, "--duration");
            PassiveCapture.Detail level = Options.parse(cl, PassiveCapture.Detail.class, detail, "--detail");
            long every = interval == null ? 0 : Options.durationNanos(cl, interval, "--interval");
            if (every > 0 && level != PassiveCapture.Detail.SUMMARY) {
                throw new CommandLine.ParameterException(cl, "--interval is for --detail summary (events are written as they come)");
            }
            if (every > 0 && every < 100_000_000L) {
                throw new CommandLine.ParameterException(cl, "--interval must be at least 100ms, not " + interval);
            }
            if (cl.getParseResult().hasMatchedOption("--cpu-idle")) {
                throw new CommandLine.ParameterException(cl, "--cpu-idle is for a workload: a passive capture never changes "
                        + "the idle states of the machine it watches");
            }
            PassiveCapture.Options base = new PassiveCapture.Options(null,
                    Options.parse(cl, Compression.class, compression, "--compression"), nanos, null, level, every, qmp);
            return new PassiveRecord(cl, pid, command, output, base, json).call();
        }
        CpuIdle idle = Options.parse(cl, CpuIdle.class, cpuIdle, "--cpu-idle");
        if (duration != null || interval != null || qmp != null || !detail.equals("events")) {
            throw new CommandLine.ParameterException(cl, "--duration, --detail, --interval and --qmp are for passive capture "
                    + "(--pid or '-- COMMAND'); a workload ends when its pages are touched");
        }
        ResolveIoctl op = Options.resolveOp(cl, resolve);
        TouchKind touchKind = touch == null ? WorkloadSpec.defaultTouch(op) : Options.parse(cl, TouchKind.class, touch, "--touch");
        WorkloadKind kind = Options.parse(cl, WorkloadKind.class, workload, "--workload");
        WorkloadSpec ws = new WorkloadSpec(kind, backend, op, pages,
                threads != null ? threads : kind == WorkloadKind.RESTORE ? 4 : 1, touchKind,
                Options.parse(cl, WaitStrategy.class, waitStrategy, "--wait"), handlerThreads,
                Options.parse(cl, Compression.class, compression, "--compression"), seed, rate, stride, image, ring);
        if (ring < 1) {
            throw new CommandLine.ParameterException(cl, "--ring must be at least 1 row, not " + ring + " (a row that finds the ring "
                    + "full is dropped and counted as lost)");
        }
        ws.validate();
        if (warmup < 0) {
            throw new CommandLine.ParameterException(cl, "--warmup must be 0 or more pages, not " + warmup);
        }
        Path out = noTrace ? null : output != null ? output
                : Path.of(String.format(Locale.ROOT, "faultline-%s-%s-%s.arrow", kind.label(), backend.label(), resolve));
        PrintWriter err = spec.commandLine().getErr();
        WorkloadRunner runner = new WorkloadRunner(ws);
        runner.check(); // refuse before touching any file
        if (out != null) {
            claim = OutputFile.claim(out); // before the warm-up: a wrong or busy -o costs nothing
            Path old = OutputFile.keepPrevious(out);
            if (old != null) {
                err.println("faultline record: kept the previous " + out + " as " + old);
            }
        }
        ProgressLine line = new ProgressLine(err);
        RecordingSummary s;
        try (CpuIdleHold hold = CpuIdleHold.of(idle)) {
            if (hold.refused()) {
                err.println("faultline record: idle CPUs not held polling (" + hold.why() + "): each wake includes the exit from a halted CPU");
            }
            String command = "faultline " + String.join(" ", cl.getParseResult().originalArgs());
            s = StopOnSignal.run("faultline-record", runner::stop, () -> {
                line.show("warming up: faulting pages untraced so the JIT compiles the handler first");
                runner.warmUp(warmup);
                return runner.run(out, command, p -> line.show(String.format(Locale.ROOT,
                        "%3.0f%%  %,d of %,d touches  %,d faults  %,.0f faults/s  %,d rows in the file",
                        100.0 * p.touched() / Math.max(1, p.touches()), p.touched(), p.touches(), p.faults(),
                        p.faults() * 1e9 / Math.max(1, p.nanos()), p.flushed())));
            });
        } finally {
            line.clear();
        }
        if (s.lost() > 0) {
            err.printf(Locale.ROOT, "faultline record: %,d events were dropped because the writer fell behind "
                    + "(counted in the footer as lost_events); a larger --ring keeps them%n", s.lost());
        }
        PrintWriter o = spec.commandLine().getOut();
        if (json) {
            o.println(new ObjectMapper().writeValueAsString(toJson(ws, s)));
        } else {
            printSummary(ws, s, o);
        }
        o.flush();
        err.flush();
        return 0;
    }

    private static Map<String, Object> toJson(WorkloadSpec ws, RecordingSummary s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("file", s.file() == null ? null : s.file().toString());
        m.put("workload", ws.kind().label());
        m.put("backend", ws.backend().label());
        m.put("resolve", ws.resolve().name());
        m.put("wait", ws.waitStrategy().label());
        m.put("page_size", ws.backend().pageSize());
        m.put("faults", s.faults());
        m.put("touches", s.touches());
        m.put("events", s.events());
        m.put("lost_events", s.lost());
        m.put("file_bytes", s.fileBytes());
        m.put("duration_ns", s.touchNanos());
        m.put("faults_per_s", Math.round(s.faultsPerSecond()));
        Histogram h = s.latency();
        Units.putPercentiles(m, h);
        m.put("stopped_early", s.stopped());
        return m;
    }

    private static void printSummary(WorkloadSpec ws, RecordingSummary s, PrintWriter o) {
        if (s.file() != null) {
            o.printf(Locale.ROOT, "recorded %s (%s, %s)%s%n", s.file(), Units.bytes(s.fileBytes()),
                    ws.compression().name().toLowerCase(Locale.ROOT), s.stopped() ? " — stopped early" : "");
        } else {
            o.println("ran with recording off" + (s.stopped() ? " — stopped early" : ""));
        }
        o.printf(Locale.ROOT, "  workload  %s on %s %s pages × %,d, %d faulting + %d handler thread(s), %s, wait %s%n",
                ws.kind().label(), ws.backend().label(), Units.pageSize(ws.backend().pageSize()), ws.pages(), ws.threads(),
                ws.handlerThreads(), ws.resolve(), ws.waitStrategy().label());
        o.printf(Locale.ROOT, "  events    %,d rows, %,d faults from %,d touches, %,d lost%n", s.events(), s.faults(), s.touches(), s.lost());
        o.printf(Locale.ROOT, "  speed     %,.0f faults/s over %s%n", s.faultsPerSecond(), Units.nanos(s.touchNanos()));
        Histogram h = s.latency();
        if (h.getTotalCount() > 0) {
            o.printf(Locale.ROOT, "  latency   %s  (t_wake - t_fault in the faulting thread)%n", Units.percentiles(h));
        }
    }
}
