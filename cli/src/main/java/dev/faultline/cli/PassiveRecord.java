package dev.faultline.cli;

import dev.faultline.core.trace.OutputFile;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.faultline.collector.passive.CaptureException;
import dev.faultline.collector.passive.CaptureSummary;
import dev.faultline.collector.passive.PassiveCapture;
import dev.faultline.core.uffd.ResolveIoctl;
import org.HdrHistogram.Histogram;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * The passive half of {@code faultline record}: {@code --pid PID} or {@code -- COMMAND}, captured
 * with Faultline's BPF program by {@link PassiveCapture}, with progress on stderr and a summary at
 * the end. Exit 0 when a trace was written; 1 (one line) when nothing could be captured.
 */
final class PassiveRecord implements Callable<Integer> {
    /** What the latency of a passive trace is: the same words in record, inspect, analyze and compare. */
    static final String LATENCY = "fault -> resolve: page_fault_user to the resolving ioctl's exit";

    private final CommandLine cl;
    private final Integer pid;
    private final List<String> command;
    private final Path output;
    private final PassiveCapture.Options base;
    private final boolean json;

    PassiveRecord(CommandLine cl, Integer pid, List<String> command, Path output, PassiveCapture.Options base, boolean json) {
        this.cl = cl;
        this.pid = pid;
        this.command = command;
        this.output = output;
        this.base = base;
        this.json = json;
    }

    /** The shell's exit status for a command that could not be found or run. */
    static final int COMMAND_NOT_FOUND = 127;

    /** Whether {@code name} is an executable file, given as a path or found on PATH, as a shell would look it up. */
    static boolean runnable(String name) {
        if (name.contains("/")) {
            Path p = Path.of(name);
            return Files.isRegularFile(p) && Files.isExecutable(p);
        }
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
            Path p = Path.of(dir.isEmpty() ? "." : dir, name);
            if (Files.isRegularFile(p) && Files.isExecutable(p)) {
                return true;
            }
        }
        return false;
    }

    @Override
    public Integer call() throws Exception {
        PrintWriter err = cl.getErr();
        if (pid == null && !runnable(command.getFirst())) {
            err.println("faultline record: " + command.getFirst() + ": command not found (nothing was run, nothing captured)");
            err.flush();
            return COMMAND_NOT_FOUND;
        }
        String what = pid != null ? "pid-" + pid : Path.of(command.getFirst()).getFileName().toString();
        Path out = output != null ? output : Path.of("faultline-capture-" + what + ".arrow");
        // claimed before a command is started or a process attached: a busy or wrong -o leaves nothing running
        try (OutputFile.Claim claim = OutputFile.claim(out)) {
            return capture(out, err);
        }
    }

    private Integer capture(Path out, PrintWriter err) throws Exception {
        String line = "faultline " + String.join(" ", cl.getParseResult().originalArgs());
        PassiveCapture.Options options = new PassiveCapture.Options(out, base.compression(), base.durationNanos(), line,
                base.detail(), base.intervalNanos(), base.qmp());
        PassiveCapture capture = pid != null ? PassiveCapture.attach(pid, options) : PassiveCapture.launch(command, options);
        Path old = OutputFile.keepPrevious(out);
        if (old != null) {
            err.println("faultline record: kept the previous " + out + " as " + old);
        }
        boolean waiting = pid != null && !capture.hasUffd();
        err.println("faultline record: capturing pid " + capture.pid() + " (" + options.detail().label() + ")"
                + (waiting ? "; it has no userfaultfd yet: waiting for one (userfaultfd(2), /dev/userfaultfd, one "
                + "received over a socket, or one a process it starts opens)" : "") + "; Ctrl-C to stop");
        err.flush();
        ProgressLine progress = new ProgressLine(err);
        boolean[] attached = {false};
        int[] traced = {capture.pid()};
        CaptureSummary s;
        try {
            s = StopOnSignal.run("faultline-capture", capture::stop, () -> capture.run(p -> {
                if (!attached[0]) {
                    attached[0] = true;
                    err.println("faultline record: probes attached to pid " + capture.pid() + " after " + Units.nanos(p.nanos()));
                    err.flush();
                    return;
                }
                if (p.target() != traced[0]) {
                    traced[0] = p.target();
                    progress.clear();
                    sayFollowing(err, capture);
                }
                progress.show(p.uffdSeen() || p.rows() > 0 ? String.format(Locale.ROOT, "%,d rows  %,d faults  %s", p.rows(),
                        p.faults(), Units.nanos(p.nanos())) : "waiting for a userfaultfd  " + Units.nanos(p.nanos()));
            }));
        } finally {
            progress.clear();
        }
        if (capture.target() != traced[0]) { // followed and done between two progress reports
            sayFollowing(err, capture);
        }
        if (s.late() > 0) {
            err.printf(Locale.ROOT, "faultline record: %,d records came later than the ordering window allows; "
                    + "their faults may lack a fault time or show as RESOLVE rows%n", s.late());
        }
        if (s.outside() > 0) {
            err.printf(Locale.ROOT, "faultline record: %,d fault messages or ioctls were on memory in no region the capture "
                    + "knows of (not written)%n", s.outside());
        }
        if (s.lost() > 0) {
            err.printf(Locale.ROOT, "faultline record: %,d records were lost (the capture's ring buffer was full; counted "
                    + "in the footer as lost_events); faults lost are missing from the trace%n", s.lost());
        }
        PrintWriter o = cl.getOut();
        if (json) {
            o.println(new ObjectMapper().writeValueAsString(toJson(s)));
        } else {
            print(s, o);
        }
        o.flush();
        err.flush();
        if (s.events() == 0) { // a valid trace of no rows was written: say why it is empty
            err.println(s.uffdSeen()
                    ? "faultline record: captured nothing: pid " + capture.target() + " read no fault and made no resolving ioctl "
                        + "(ended: " + s.endedBy() + "); " + s.file() + " holds no rows"
                    : "faultline record: captured nothing: neither pid " + capture.pid() + " nor a process it started had a "
                        + "userfaultfd (ended: " + s.endedBy() + "); " + s.file() + " holds no rows");
            err.flush();
        }
        return 0;
    }

    private static Map<String, Object> toJson(CaptureSummary s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("file", s.file() == null ? null : s.file().toString());
        m.put("detail", s.detail().label());
        m.put("events", s.events());
        m.put("faults", s.faults());
        m.put("resolves", s.resolves());
        Map<String, Long> ioctls = new LinkedHashMap<>();
        s.ioctls().forEach((k, v) -> ioctls.put(k.name(), v));
        m.put("ioctls", ioctls);
        m.put("lost_events", s.lost());
        m.put("late_events", s.late());
        m.put("outside_events", s.outside());
        m.put("duration_ns", s.nanos());
        m.put("latency_source", LATENCY);
        Histogram h = s.latency();
        m.put("latency_count", h.getTotalCount());
        Units.putPercentiles(m, h);
        m.put("queue_p50_ns", s.queue().getTotalCount() == 0 ? null : s.queue().getValueAtPercentile(50));
        m.put("service_p50_ns", s.service().getTotalCount() == 0 ? null : s.service().getValueAtPercentile(50));
        m.put("service_count", s.service().getTotalCount());
        m.put("ended_by", s.endedBy());
        return m;
    }

    private static void print(CaptureSummary s, PrintWriter o) {
        o.printf(Locale.ROOT, "captured %s (%s, %s, ended: %s)%n", s.file(), Units.bytes(size(s.file())), s.detail().label(),
                s.endedBy());
        o.printf(Locale.ROOT, "  events    %,d rows: %,d faults, %,d resolves no fault waited on; %,d lost%n",
                s.events(), s.faults(), s.resolves(), s.lost());
        StringBuilder b = new StringBuilder();
        for (Map.Entry<ResolveIoctl, Long> e : s.ioctls().entrySet()) {
            b.append(String.format(Locale.ROOT, "%s %,d  ", e.getKey(), e.getValue()));
        }
        o.printf(Locale.ROOT, "  ioctls    %s%n", b.isEmpty() ? "none" : b.toString().strip());
        o.printf(Locale.ROOT, "  duration  %s%n", Units.nanos(s.nanos()));
        Histogram h = s.latency();
        if (h.getTotalCount() > 0) {
            o.printf(Locale.ROOT, "  latency   %s  (%s; %,d faults)%n", Units.percentiles(h), LATENCY, h.getTotalCount());
        }
        if (s.service().getTotalCount() > 0) {
            o.printf(Locale.ROOT, "  split     queue p50 %s (fault -> read)  service p50 %s (read -> resolve, %,d faults)%n",
                    s.queue().getTotalCount() == 0 ? "-" : Units.nanos(s.queue().getValueAtPercentile(50)),
                    Units.nanos(s.service().getValueAtPercentile(50)), s.service().getTotalCount());
        }
        long untimed = s.service().getTotalCount() - h.getTotalCount();
        if (untimed > 0) {
            o.printf(Locale.ROOT, "  note      %,d faults had no page_fault_user (taken in the kernel: KVM vCPUs, read(2) "
                    + "into the region): only their service time is known%n", untimed);
        }
    }

    private static void sayFollowing(PrintWriter err, PassiveCapture capture) {
        err.println("faultline record: followed pid " + capture.target() + " (" + capture.targetComm() + "), started by pid "
                + capture.pid() + ": it opened the userfaultfd");
        err.flush();
    }

    private static long size(Path p) {
        try {
            return Files.size(p);
        } catch (java.io.IOException e) {
            return 0;
        }
    }
}
