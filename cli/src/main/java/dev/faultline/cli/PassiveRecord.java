package dev.faultline.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.faultline.collector.passive.CaptureSummary;
import dev.faultline.collector.passive.PassiveCapture;
import dev.faultline.core.trace.Compression;
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
 * with bpftrace by {@link PassiveCapture}, with progress on stderr and a summary at the end.
 */
final class PassiveRecord implements Callable<Integer> {
    private final CommandLine cl;
    private final Integer pid;
    private final List<String> command;
    private final Path output;
    private final Compression compression;
    private final long durationNanos;
    private final boolean json;

    PassiveRecord(CommandLine cl, Integer pid, List<String> command, Path output, Compression compression,
                  long durationNanos, boolean json) {
        this.cl = cl;
        this.pid = pid;
        this.command = command;
        this.output = output;
        this.compression = compression;
        this.durationNanos = durationNanos;
        this.json = json;
    }

    @Override
    public Integer call() throws Exception {
        PrintWriter err = cl.getErr();
        String what = pid != null ? "pid-" + pid : Path.of(command.getFirst()).getFileName().toString();
        Path out = output != null ? output : Path.of("faultline-capture-" + what + ".arrow");
        String line = "faultline " + String.join(" ", cl.getParseResult().originalArgs());
        PassiveCapture capture = pid != null ? PassiveCapture.attach(pid, out, compression, durationNanos, line)
                : PassiveCapture.launch(command, out, compression, durationNanos, line);
        if (Files.exists(out)) {
            Path old = out.resolveSibling(out.getFileName() + ".old");
            Files.move(out, old, StandardCopyOption.REPLACE_EXISTING);
            err.println("faultline record: kept the previous " + out + " as " + old);
        }
        err.println("faultline record: capturing pid " + capture.pid() + " with bpftrace (Ctrl-C to stop)");
        err.flush();
        ProgressLine progress = new ProgressLine(err);
        CaptureSummary s;
        try {
            s = StopOnSignal.run("faultline-capture", capture::stop, () -> capture.run(p -> progress.show(String.format(Locale.ROOT,
                    "%,d rows  %,d faults  %s", p.rows(), p.faults(), Units.nanos(p.nanos())))));
        } finally {
            progress.clear();
        }
        if (s.late() > 0) {
            err.printf(Locale.ROOT, "faultline record: %,d events came later than the ordering window allows "
                    + "(bpftrace fell behind); their faults may lack a fault time or show as RESOLVE rows%n", s.late());
        }
        if (s.outside() > 0) {
            err.printf(Locale.ROOT, "faultline record: %,d fault messages or ioctls were on memory in no region the capture "
                    + "knows of (not written)%n", s.outside());
        }
        if (s.lost() > 0) {
            err.printf(Locale.ROOT, "faultline record: bpftrace lost %,d events (counted in the footer as lost_events); "
                    + "faults it lost are missing from the trace%n", s.lost());
        }
        PrintWriter o = cl.getOut();
        if (json) {
            o.println(new ObjectMapper().writeValueAsString(toJson(s)));
        } else {
            print(s, o);
        }
        o.flush();
        err.flush();
        return 0;
    }

    private static Map<String, Object> toJson(CaptureSummary s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("file", s.file() == null ? null : s.file().toString());
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
        Histogram h = s.latency();
        m.put("latency_count", h.getTotalCount());
        Units.putPercentiles(m, h);
        m.put("ended_by", s.endedBy());
        return m;
    }

    private static void print(CaptureSummary s, PrintWriter o) {
        if (s.file() == null) {
            o.println("captured nothing: the process read no fault and made no resolving ioctl (no file written; "
                    + "ended: " + s.endedBy() + ")");
            return;
        }
        o.printf(Locale.ROOT, "captured %s (%s, ended: %s)%n", s.file(), Units.bytes(size(s.file())), s.endedBy());
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
            o.printf(Locale.ROOT, "  latency   %s  (page_fault_user to the resolving ioctl's exit, %,d faults)%n",
                    Units.percentiles(h), h.getTotalCount());
        }
    }

    private static long size(Path p) {
        try {
            return Files.size(p);
        } catch (java.io.IOException e) {
            return 0;
        }
    }
}
