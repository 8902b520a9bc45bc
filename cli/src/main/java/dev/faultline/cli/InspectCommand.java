package dev.faultline.cli;

import dev.faultline.analysis.GroupKey;
import dev.faultline.analysis.GroupStats;
import dev.faultline.core.abi.Errno;
import dev.faultline.core.abi.UffdAbi;
import dev.faultline.core.trace.EventKind;
import dev.faultline.core.trace.RegionInfo;
import dev.faultline.core.trace.TraceEvent;
import dev.faultline.core.trace.TraceHeader;
import dev.faultline.core.trace.TraceReader;
import dev.faultline.core.uffd.ResolveIoctl;
import dev.faultline.core.uffd.UffdFeature;
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
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;

/**
 * {@code faultline inspect FILE}: a trace's or results file's metadata, regions, row counts by
 * kind, ioctl and backend, and its first rows. Reads the file batch by batch.
 */
@Command(name = "inspect", sortOptions = false, usageHelpAutoWidth = true, mixinStandardHelpOptions = true,
        exitCodeListHeading = ExitStatus.HEADING, exitCodeList = {ExitStatus.OK, ExitStatus.FAILED, ExitStatus.USAGE},
        description = {
            "Show what a trace (or replay results) file holds: who wrote it, on which kernel, its regions, how many "
                + "rows of each kind, ioctl and backend, and the first rows with their latency split into queue "
                + "(fault to read), service (read to ioctl end) and wake (ioctl end to the faulting thread running).",
            "",
            "A file whose writer died before finishing is read up to its last complete batch, and inspect says so.",
            "",
            "Example:",
            "  faultline inspect traces/sequential-shmem-copy.arrow --rows 5"})
final class InspectCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(paramLabel = "FILE", description = "A trace/1 Arrow file; - reads it from standard input.")
    Path file;

    @Option(names = "--json", description = "Print one JSON object (metadata, regions, footer, counts by kind, ioctl, backend "
            + "and run, the latency percentiles) instead of the text.")
    boolean json;

    @Option(names = "--rows", paramLabel = "N", description = "How many first rows to print (default: ${DEFAULT-VALUE}).")
    int rows = 10;

    @Override
    public Integer call() throws IOException {
        try (StdinFile stdin = new StdinFile()) {
            Path f = stdin.resolve(file, System.in);
            try (TraceReader r = TraceReader.open(f)) {
                print(r, Files.size(f), spec.commandLine().getOut());
                spec.commandLine().getOut().flush();
            }
        }
        return 0;
    }

    private void print(TraceReader r, long fileSize, PrintWriter out) throws IOException {
        long[] byKind = new long[EventKind.values().length];
        long[] byIoctl = new long[ResolveIoctl.values().length];
        // per backend column value and page size: a few combinations, counted without a string per row
        Map<String, Map<Integer, long[]>> byBackend = new TreeMap<>();
        String lastBackend = null;
        int lastPage = -1;
        long[] count = null;
        List<String> first = new ArrayList<>();
        Map<Integer, long[]> byRun = new TreeMap<>(); // replay results only
        TraceEvent e = new TraceEvent();
        long tMin = Long.MAX_VALUE;
        long tMax = Long.MIN_VALUE;
        GroupStats all = new GroupStats(new GroupKey("all", 0, "all", ""));
        while (r.nextBatch()) {
            for (int i = 0; i < r.batchRows(); i++) {
                r.read(i, e);
                if (e.kind == EventKind.PAGEFAULT) {
                    all.add(e.tFault, e.tRead, e.tResolveEnd, e.tWake);
                } else if (e.kind == EventKind.FAULT_HISTOGRAM) {
                    all.addSummary(e.count, e.tRead, e.tResolveEnd, histogram(e.histLatency), histogram(e.histQueue),
                            histogram(e.histService), histogram(e.histEndToEnd), histogram(e.histWake));
                }
                byKind[e.kind.ordinal()]++;
                byIoctl[e.ioctl.ordinal()]++;
                if (e.run >= 0) {
                    byRun.computeIfAbsent(e.run, k -> new long[1])[0]++;
                }
                String backend = r.backend(i);
                int page = r.pageSize(i);
                if (backend != lastBackend || page != lastPage) { // rows come in long runs of one region
                    lastBackend = backend;
                    lastPage = page;
                    count = byBackend.computeIfAbsent(backend, k -> new TreeMap<>()).computeIfAbsent(page, k -> new long[1]);
                }
                count[0]++;
                long earliest = e.tFault != TraceEvent.UNKNOWN ? e.tFault : e.tRead != TraceEvent.UNKNOWN ? e.tRead : e.tResolveStart;
                long latest = e.tWake != TraceEvent.UNKNOWN ? e.tWake : e.tResolveEnd;
                if (earliest != TraceEvent.UNKNOWN) {
                    tMin = Math.min(tMin, earliest);
                }
                if (latest != TraceEvent.UNKNOWN) {
                    tMax = Math.max(tMax, latest);
                }
                if (first.size() < rows) {
                    first.add(row(e));
                }
            }
        }
        TraceHeader h = r.header();
        long total = r.rowsRead();
        if (json) {
            Map<String, Object> j = new java.util.LinkedHashMap<>();
            j.put("file", file.toString());
            j.put("bytes", fileSize);
            j.put("rows", total);
            j.put("complete", !r.recovered());
            j.put("recovery", r.recoveryNote());
            j.put("version", h.version());
            j.put("source", h.source());
            j.put("command", h.command());
            j.put("kernel", h.kernel());
            j.put("host", h.host());
            j.put("started_at", h.startedAt());
            j.put("uffd_features", "0x" + Long.toHexString(h.features()));
            j.put("metadata", h.extra());
            j.put("footer", r.footer());
            j.put("regions", h.regions());
            j.put("kinds", named(EventKind.values(), byKind));
            j.put("ioctls", named(ResolveIoctl.values(), byIoctl));
            Map<String, Map<Integer, Long>> backends = new TreeMap<>();
            byBackend.forEach((b, pages) -> pages.forEach((page, n) -> backends.computeIfAbsent(b, k -> new TreeMap<>()).put(page, n[0])));
            j.put("rows_by_backend_and_page_size", backends);
            Map<Integer, Long> runs = new TreeMap<>();
            byRun.forEach((run, n) -> runs.put(run, n[0]));
            j.put("rows_by_run", runs);
            j.put("span_ns", tMax > tMin ? tMax - tMin : 0);
            Map<String, Object> latency = new java.util.LinkedHashMap<>();
            latency.put("definition", all.source().optionName());
            latency.put("faults", all.faults());
            if (all.latency().getTotalCount() > 0) {
                Units.putPercentiles(latency, all.latency());
            }
            j.put("latency", latency);
            out.println(new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(j));
            return;
        }
        out.printf(Locale.ROOT, "file        %s (%s, %d rows, %s)%n", file, Units.bytes(fileSize), total,
                r.recovered() ? "RECOVERED" : "complete");
        if (r.recovered()) {
            out.println("recovery    " + r.recoveryNote());
        }
        out.println("written by  faultline " + h.version() + ", source " + h.source()
                + (h.command() == null ? "" : ": " + h.command()));
        out.println("kernel      " + h.kernel() + " on " + h.host() + ", started " + h.startedAt());
        out.println("uffd        features 0x" + Long.toHexString(h.features()) + " "
                + String.join(" ", UffdFeature.names(h.features())));
        h.extra().forEach((k, v) -> out.println(String.format(Locale.ROOT, "%-11s %s", k, v)));
        if (!r.footer().isEmpty()) {
            StringBuilder f = new StringBuilder();
            r.footer().forEach((k, v) -> f.append(k).append('=').append(v).append("  "));
            out.println("footer      " + f.toString().strip());
        }
        out.println();
        out.println("regions");
        int nameWidth = 16; // wide enough for the longest name: QEMU's RAMBlocks run to /rom@etc/table-loader
        for (RegionInfo g : h.regions()) {
            nameWidth = Math.max(nameWidth, g.name().length());
        }
        String row = "  %-3s %-" + nameWidth + "s %-12s %-5s %-11s %-14s %s%n";
        out.printf(Locale.ROOT, row, "id", "name", "backend", "page", "length", "modes", "base");
        for (RegionInfo g : h.regions()) {
            out.printf(Locale.ROOT, row, g.id(), g.name(), g.backend(),
                    Units.pageSize(g.pageSize()), Units.bytes(g.length()), g.modes(), "0x" + Long.toHexString(g.base()));
        }
        out.println();
        out.println("rows by kind     " + counts(EventKind.values(), byKind));
        out.println("rows by ioctl    " + counts(ResolveIoctl.values(), byIoctl));
        StringBuilder b = new StringBuilder();
        byBackend.forEach((backend, sizes) -> sizes.forEach((page, n) ->
                b.append(backend).append(' ').append(Units.pageSize(page)).append(' ').append(n[0]).append("  ")));
        out.println("rows by backend  " + (b.isEmpty() ? "-" : b.toString().strip()));
        if (!byRun.isEmpty()) {
            StringBuilder runs = new StringBuilder();
            byRun.forEach((run, n) -> runs.append(run).append(": ").append(n[0]).append("  "));
            out.println("rows by run      " + runs.toString().strip());
        }
        if (tMin <= tMax) {
            out.println("time span        " + Units.nanos(tMax - tMin));
        }
        Histogram latency = all.latency();
        if (latency.getTotalCount() > 0) {
            out.printf(Locale.ROOT, "latency          %s  (%s; %,d of %,d faults)%n", Units.percentiles(latency), all.latencySource(),
                    latency.getTotalCount(), all.faults());
            out.printf(Locale.ROOT, "split            queue p50 %s  service p50 %s  wake p50 %s%n", p50(all.queue()),
                    p50(all.service()), p50(all.wake()));
        }
        if (!first.isEmpty()) {
            out.println();
            out.println("first " + first.size() + " rows");
            out.printf(Locale.ROOT, "  %-8s %-9s %-3s %-12s %-11s %-8s %-12s %-9s %-7s %-9s %-9s %s%n", "seq", "kind",
                    "reg", "offset", "flags", "tid", "ioctl", "length", "result", "queue", "service", "wake");
            first.forEach(out::println);
            if (first.stream().anyMatch(line -> line.endsWith(WOKEN_IN_IOCTL))) {
                out.println("  * t_wake before t_resolve_end: the ioctl wakes the faulting thread before it returns, and that thread "
                        + "ran while the handler's thread was still on its way back (held up: preempted, or an interrupt); "
                        + "analyze counts its wake as 0");
            }
        }
    }

    private static Map<String, Long> named(Enum<?>[] names, long[] counts) {
        Map<String, Long> m = new java.util.LinkedHashMap<>();
        for (int i = 0; i < counts.length; i++) {
            if (counts[i] > 0) {
                m.put(names[i].name(), counts[i]);
            }
        }
        return m;
    }

    private static String counts(Enum<?>[] names, long[] counts) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < counts.length; i++) {
            if (counts[i] > 0) {
                sb.append(names[i].name()).append(' ').append(counts[i]).append("  ");
            }
        }
        return sb.isEmpty() ? "-" : sb.toString().strip();
    }

    private static String p50(Histogram h) {
        return h.getTotalCount() == 0 ? "-" : Units.nanos(h.getValueAtPercentile(50));
    }

    private static Histogram histogram(byte[] encoded) throws IOException {
        if (encoded == null) {
            return null;
        }
        try {
            return Histogram.decodeFromCompressedByteBuffer(java.nio.ByteBuffer.wrap(encoded), 0);
        } catch (java.util.zip.DataFormatException | RuntimeException ex) {
            throw new dev.faultline.core.trace.TraceFormatException("a summary row's histogram is damaged: " + ex.getMessage(), ex);
        }
    }

    private static String row(TraceEvent e) throws IOException {
        if (e.kind.isSummary()) {
            String what = switch (e.kind) {
                case FAULT_HISTOGRAM -> String.format(Locale.ROOT, "%,d faults, fault -> resolve p50 %s (%,d timed), service p50 %s",
                        e.count, p50or(histogram(e.histLatency)), e.countTimed, p50or(histogram(e.histService)));
                case RESOLVE_COUNT -> String.format(Locale.ROOT, "%,d ioctls no fault waited on, %s", e.count, Units.bytes(e.resolveLength));
                default -> String.format(Locale.ROOT, "tid %d: %,d faults, blocked %s (read -> resolve)", e.tid, e.count,
                        Units.nanos(e.totalNanos));
            };
            return String.format(Locale.ROOT, "  %-8d %-15s %-3d %-12s %s", e.seq, e.kind, e.region, e.ioctl, what);
        }
        return String.format(Locale.ROOT, "  %-8d %-9s %-3d 0x%-10x %-11s %-8d %-12s %-9s %-7s %-9s %-9s %s", e.seq, e.kind,
                e.region, e.offset, flagNames(e.flags), e.tid, e.ioctl, e.resolveLength == 0 ? "-" : Units.bytes(e.resolveLength),
                e.result == 0 ? "ok" : Errno.name(e.result), span(e.tFault, e.tRead), span(e.tRead, e.tResolveEnd),
                e.tWake != TraceEvent.UNKNOWN && e.tResolveEnd != TraceEvent.UNKNOWN && e.tWake < e.tResolveEnd ? WOKEN_IN_IOCTL
                        : span(e.tResolveEnd, e.tWake));
    }

    /** The wake column of a fault whose thread ran before the handler's ioctl had returned. */
    private static final String WOKEN_IN_IOCTL = "in ioctl*";

    private static String p50or(Histogram h) {
        return h == null ? "-" : Units.nanos(h.getValueAtPercentile(50));
    }

    private static String span(long from, long to) {
        return from == TraceEvent.UNKNOWN || to == TraceEvent.UNKNOWN ? "-" : Units.nanos(to - from);
    }

    static String flagNames(int flags) {
        if (flags == 0) {
            return "READ";
        }
        List<String> n = new ArrayList<>();
        if ((flags & UffdAbi.UFFD_PAGEFAULT_FLAG_WRITE) != 0) {
            n.add("WRITE");
        }
        if ((flags & UffdAbi.UFFD_PAGEFAULT_FLAG_WP) != 0) {
            n.add("WP");
        }
        if ((flags & UffdAbi.UFFD_PAGEFAULT_FLAG_MINOR) != 0) {
            n.add("MINOR");
        }
        int rest = flags & ~(int) (UffdAbi.UFFD_PAGEFAULT_FLAG_WRITE | UffdAbi.UFFD_PAGEFAULT_FLAG_WP
                | UffdAbi.UFFD_PAGEFAULT_FLAG_MINOR);
        if (rest != 0) {
            n.add("0x" + Integer.toHexString(rest));
        }
        return String.join("|", n);
    }
}
