package dev.faultline.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.faultline.core.probe.CapabilityProbe;
import dev.faultline.core.probe.ProbeCell;
import dev.faultline.core.probe.ProbeReport;
import dev.faultline.core.region.Backend;
import dev.faultline.core.uffd.RegisterMode;
import dev.faultline.core.uffd.ResolveIoctl;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import dev.faultline.guest.GuestConfig;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code faultline probe}: the capability matrix of the running kernel, backend × register mode ×
 * resolving ioctl, each cell proven by registering a small region and resolving one real fault.
 */
@Command(name = "probe", sortOptions = false, usageHelpAutoWidth = true, mixinStandardHelpOptions = true,
        description = {
            "Show what this kernel's userfaultfd can do for each memory type.",
            "",
            "For every backend (anon, shmem, hugetlb2m, hugetlb1g, guest_memfd), register mode (MISSING, WP, MINOR) "
                + "and resolving ioctl (COPY, ZEROPAGE, CONTINUE, WRITEPROTECT, MOVE, POISON) the probe maps one page, "
                + "registers it, faults on it from a second thread and resolves the fault with the ioctl. A cell says "
                + "'ok' only when the page then read back as the ioctl should have left it. Otherwise it shows the errno "
                + "the kernel answered and where: a bare ERRNO is the ioctl's answer, reg:ERRNO the registration's, "
                + "map:ERRNO the mapping's (e.g. no huge pages reserved).",
            "",
            "Needs a userfaultfd: root (or CAP_SYS_PTRACE), or /dev/userfaultfd access, or else a user-mode-only uffd "
                + "(then POISON is not probed). hugetlb cells need free huge pages; reserve them with",
            "  echo 64 > /proc/sys/vm/nr_hugepages",
            "",
            "Examples:",
            "  faultline probe",
            "  faultline probe --backend shmem,hugetlb2m -v",
            "  faultline probe --json | jq '.cells[] | select(.supported)'",
            "  faultline probe --kernel host \\",
            "      --kernel ~/.cache/faultline/kernels/linux-image-6.1.0-47-amd64",
            "",
            "With --kernel (repeatable) the probe runs under each kernel named, in a QEMU guest over this machine's root "
                + "filesystem (see scripts/fetch-kernel), and prints one matrix with a column per kernel; ≠ marks where they differ."},
        exitCodeListHeading = "%nExit status:%n",
        exitCodeList = {"0:the probe ran (unsupported cells are results, not failures)",
            "1:no userfaultfd could be opened at all; with --kernel: a kernel could not be booted or probed (the others are shown)",
            "2:usage error"})
final class ProbeCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--json", description = "Print one JSON object (kernel, features, opened_via, huge_pages, cells) instead of the table.")
    boolean json;

    @Option(names = "--backend", split = ",", paramLabel = "NAME",
            description = "Backends to probe, comma-separated (default: all): anon, shmem, hugetlb2m, hugetlb1g, guest_memfd.",
            converter = BackendConverter.class)
    List<Backend> backends = List.of(Backend.values());

    @Option(names = {"-v", "--verbose"}, description = "After the table, say why each unsupported cell failed.")
    boolean verbose;

    @CommandLine.Mixin
    GuestOptions guests = new GuestOptions();

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (guests.any()) {
            return acrossKernels(out, err);
        }
        long start = System.nanoTime();
        ProbeReport report = new CapabilityProbe().run(backends, b -> {
            err.printf(Locale.ROOT, "probing %-12s (%s)%n", b, Units.nanos(System.nanoTime() - start));
            err.flush();
        });
        err.printf(Locale.ROOT, "probed %d cells in %s%n", report.cells().size(), Units.nanos(System.nanoTime() - start));
        err.flush();
        if (json) {
            out.println(toJson(report));
        } else {
            printTable(report, out, verbose);
        }
        out.flush();
        return 0;
    }

    private int acrossKernels(PrintWriter out, PrintWriter err) throws IOException {
        CommandLine cl = spec.commandLine();
        List<KernelTarget> targets = guests.targets(cl);
        GuestConfig config = guests.config(cl);
        Path work = KernelSession.workDir();
        List<KernelProbe.Column> columns = KernelProbe.run(targets, config, backends, work, err);
        boolean all = KernelProbe.allProbed(columns);
        KernelSession.finish(work, !all, "probe", err);
        if (json) {
            out.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(KernelProbe.toJson(columns, config)));
        } else {
            KernelProbe.print(columns, config, out);
        }
        out.flush();
        err.flush();
        return all ? 0 : 1;
    }

    /** The {@code --json} object. */
    static String toJson(ProbeReport r) throws JsonProcessingException {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("kernel", r.kernel());
        o.put("features", r.featureNames());
        o.put("features_mask", "0x" + Long.toHexString(r.features()));
        o.put("opened_via", r.openedVia());
        Map<String, Long> huge = new LinkedHashMap<>();
        r.freeHugePages().forEach((size, free) -> huge.put(Long.toString(size), free));
        o.put("huge_pages", huge);
        List<Map<String, Object>> cells = new ArrayList<>();
        for (ProbeCell c : r.cells()) {
            Map<String, Object> cell = new LinkedHashMap<>();
            cell.put("backend", c.backend().label());
            cell.put("mode", c.mode().name());
            cell.put("ioctl", c.ioctl().name());
            cell.put("supported", c.supported());
            cell.put("errno", c.errno());
            cell.put("stage", c.stage() == null ? null : c.stage().label());
            cell.put("detail", c.detail());
            cells.add(cell);
        }
        o.put("cells", cells);
        return new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(o);
    }

    /** The human table: one row per backend × mode, one column per ioctl. */
    static void printTable(ProbeReport r, PrintWriter out, boolean verbose) {
        out.println("kernel      " + r.kernel());
        out.println("uffd        opened via " + r.openedVia() + ", features 0x" + Long.toHexString(r.features()));
        out.println("            " + String.join(" ", r.featureNames()));
        StringBuilder huge = new StringBuilder();
        r.freeHugePages().forEach((size, free) -> huge.append(Units.pageSize(size)).append(": ").append(free).append(" free  "));
        out.println("huge pages  " + (huge.isEmpty() ? "no pools" : huge.toString().strip()));
        out.println();
        ResolveIoctl[] ops = ResolveIoctl.resolving();
        StringBuilder head = new StringBuilder(String.format(Locale.ROOT, "%-12s %-8s", "backend", "mode"));
        for (ResolveIoctl op : ops) {
            head.append(String.format(Locale.ROOT, " %-12s", op.name()));
        }
        out.println(head.toString().stripTrailing());
        List<ProbeCell> failed = new ArrayList<>();
        for (Backend b : Backend.values()) {
            for (RegisterMode m : RegisterMode.values()) {
                StringBuilder row = new StringBuilder(String.format(Locale.ROOT, "%-12s %-8s", b.label(), m.name()));
                boolean any = false;
                for (ResolveIoctl op : ops) {
                    ProbeCell c = find(r, b, m, op);
                    if (c != null) {
                        any = true;
                        if (!c.supported()) {
                            failed.add(c);
                        }
                    }
                    row.append(String.format(Locale.ROOT, " %-12s", c == null ? "" : c.shortText()));
                }
                if (any) {
                    out.println(row.toString().stripTrailing());
                }
            }
        }
        out.println();
        out.println("ok: a real fault was resolved by the ioctl and the page read back right.");
        out.println("ERRNO: the ioctl's answer; reg:ERRNO: UFFDIO_REGISTER's; map:ERRNO: mapping the region's.");
        if (verbose) {
            out.println();
            for (ProbeCell c : failed) {
                out.printf(Locale.ROOT, "%-12s %-8s %-12s %s%n", c.backend().label(), c.mode(), c.ioctl(), c.detail());
            }
        } else if (!failed.isEmpty()) {
            out.println("-v says why each unsupported cell failed.");
        }
    }

    static ProbeCell find(ProbeReport r, Backend b, RegisterMode m, ResolveIoctl op) {
        for (ProbeCell c : r.cells()) {
            if (c.backend() == b && c.mode() == m && c.ioctl() == op) {
                return c;
            }
        }
        return null;
    }
}
