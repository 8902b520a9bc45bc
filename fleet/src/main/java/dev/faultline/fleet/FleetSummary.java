package dev.faultline.fleet;

import dev.faultline.core.FaultlineVersion;
import dev.faultline.core.trace.Compression;
import dev.faultline.core.trace.EventKind;
import dev.faultline.core.trace.OutputFile;
import dev.faultline.core.trace.RegionInfo;
import dev.faultline.core.trace.TraceEvent;
import dev.faultline.core.trace.TraceHeader;
import dev.faultline.core.trace.TraceWriter;
import dev.faultline.core.uffd.ResolveIoctl;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * One slice of the fleet (the traces whose {@code --by} column has one value) written as a faultline
 * summary file: a FAULT_HISTOGRAM row per group, trace and run, each trace's run a run of the file,
 * so that {@code faultline analyze} reports the slice's groups and {@code compare} resamples over
 * its traces. One region per backend and page size.
 *
 * <p>Runs are numbered in the order of (trace, host, start, run): the order {@code faultline compare}
 * gives the runs of the same traces listed by name, so that both draw the same bootstrap.
 */
public final class FleetSummary {
    /** The {@code source} of fleet summaries. */
    public static final String SOURCE = "fleet";

    /** One group's faults in one run of one trace, as the job collected it. */
    public record Part(String trace, String host, String startedAt, String kernel, int run, String ioctl, int pageSize,
                       String backend, GroupFaults faults) {
        String traceRun() {
            return trace + '\0' + host + '\0' + startedAt + '\0' + String.format("%010d", run);
        }
    }

    private FleetSummary() {
    }

    /**
     * Writes {@code parts} (all of one slice) to {@code file}, replacing it only once complete.
     *
     * @param by      the column the fleet was sliced by
     * @param value   this slice's value of it
     * @param command the job's command line, for the header
     */
    public static void write(Path file, String by, String value, List<Part> parts, String command) throws IOException {
        Map<String, Integer> runs = new TreeMap<>();
        for (Part p : parts) {
            runs.putIfAbsent(p.traceRun(), 0);
        }
        int n = 0;
        for (Map.Entry<String, Integer> e : runs.entrySet()) {
            e.setValue(n++);
        }
        Map<String, RegionInfo> regions = new LinkedHashMap<>();
        List<Part> sorted = new ArrayList<>(parts);
        sorted.sort(Comparator.comparing(Part::traceRun).thenComparing(Part::backend).thenComparingInt(Part::pageSize)
                .thenComparing(Part::ioctl));
        for (Part p : sorted) {
            String key = p.backend() + "-" + p.pageSize();
            if (!regions.containsKey(key)) {
                long page = Math.max(1, p.pageSize());
                regions.put(key, new RegionInfo(regions.size(), p.backend() + " " + dev.faultline.analysis.Format.pageSize(page),
                        p.backend(), page, page << 20, "MISSING", 0));
            }
        }
        TreeSet<String> hosts = new TreeSet<>();
        TreeSet<String> kernels = new TreeSet<>();
        TreeSet<String> traces = new TreeSet<>();
        for (Part p : parts) {
            hosts.add(p.host());
            kernels.add(p.kernel());
            traces.add(p.trace() + '\0' + p.host() + '\0' + p.startedAt());
        }
        TraceHeader h = new TraceHeader(FaultlineVersion.get(), "kernel".equals(by) ? value : names(kernels),
                "host".equals(by) ? value : hosts.size() == 1 ? hosts.first() : hosts.size() + " hosts", 0, SOURCE, command,
                Instant.now().toString(), List.copyOf(regions.values()), Map.of())
                .with("detail", "summary").with("fleet.by", by).with("fleet.value", value)
                .with("fleet.traces", Integer.toString(traces.size())).with("fleet.hosts", Integer.toString(hosts.size()))
                .with("fleet.runs", Integer.toString(runs.size()));
        Path partial = OutputFile.partial(file);
        try (TraceWriter w = TraceWriter.create(partial, h, Compression.ZSTD, true, true)) {
            TraceEvent e = new TraceEvent();
            long seq = 0;
            for (Part p : sorted) {
                GroupFaults g = p.faults();
                e.clear();
                e.seq = seq++;
                e.kind = EventKind.FAULT_HISTOGRAM;
                e.region = regions.get(p.backend() + "-" + p.pageSize()).id();
                e.ioctl = ResolveIoctl.valueOf(p.ioctl());
                e.run = runs.get(p.traceRun());
                e.count = g.faults();
                e.countTimed = g.faultToResolve.getTotalCount();
                e.tRead = g.first();
                e.tResolveEnd = g.last();
                e.histLatency = GroupFaults.compressed(g.faultToResolve);
                e.histQueue = GroupFaults.compressed(g.queue);
                e.histService = GroupFaults.compressed(g.service);
                e.histEndToEnd = GroupFaults.compressed(g.endToEnd);
                e.histWake = GroupFaults.compressed(g.wake);
                w.append(e);
            }
        } catch (IOException | RuntimeException ex) {
            Files.deleteIfExists(partial);
            throw ex;
        }
        Files.move(partial, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /** A slice's value as it appears in its file's name: letters, digits and {@code . _ + -} kept, anything else {@code %XX}. */
    public static String fileValue(String value) {
        if (value.isEmpty()) {
            return "_empty_";
        }
        StringBuilder b = new StringBuilder();
        for (byte c : value.getBytes(java.nio.charset.StandardCharsets.UTF_8)) {
            if (Character.isLetterOrDigit(c) || c == '.' || c == '_' || c == '+' || c == '-') {
                b.append((char) c);
            } else {
                b.append('%').append(String.format(java.util.Locale.ROOT, "%02X", c & 0xff));
            }
        }
        return b.toString();
    }

    private static String names(TreeSet<String> values) {
        return values.size() <= 3 ? String.join(", ", values) : values.size() + " kernels";
    }
}
