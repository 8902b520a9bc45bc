package dev.faultline.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.faultline.core.probe.ProbeCell;
import dev.faultline.core.probe.ProbeReport;
import dev.faultline.core.region.Backend;
import dev.faultline.core.uffd.RegisterMode;
import dev.faultline.core.uffd.ResolveIoctl;
import dev.faultline.guest.Accel;
import dev.faultline.guest.GuestConfig;
import dev.faultline.guest.GuestException;
import dev.faultline.guest.GuestVm;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * {@code faultline probe --kernel A --kernel B}: the capability probe run under each kernel (in its
 * guest, or on this machine for {@code host}) and shown as one matrix, one column per kernel, with
 * the rows where the kernels answer differently marked.
 */
final class KernelProbe {
    /** One kernel's answer: its report, or why it has none. */
    record Column(KernelTarget target, String where, ProbeReport report, String failure) {
    }

    private KernelProbe() {
    }

    /** Probes {@code backends} under every target in turn, telling {@code err} what it does. */
    static List<Column> run(List<KernelTarget> targets, GuestConfig config, List<Backend> backends, Path work, PrintWriter err) {
        List<Column> columns = new ArrayList<>();
        List<String> args = GuestProbe.args(backends);
        for (int i = 0; i < targets.size(); i++) {
            KernelTarget t = targets.get(i);
            long start = System.nanoTime();
            try (KernelSession s = KernelSession.open(t, config, work.resolve("kernel-" + i), err)) {
                GuestVm.Result r = s.java(GuestProbe.class, args, null);
                if (r.exit() != 0) {
                    String why = KernelSession.why(r);
                    columns.add(new Column(t, s.describe(), null, "the probe failed: " + why));
                } else {
                    columns.add(new Column(t, s.describe(), fromJson(r.out()), null));
                }
                err.printf(Locale.ROOT, "%s: done in %s%n", t.label(), Units.nanos(System.nanoTime() - start));
            } catch (GuestException e) {
                columns.add(new Column(t, "guest", null, e.getMessage()));
                KernelSession.report("probe", e, err);
            } catch (IOException e) {
                columns.add(new Column(t, "guest", null, "its probe printed no readable JSON: " + e.getMessage()));
            }
            err.flush();
        }
        return columns;
    }

    /** A {@link ProbeReport} back from {@code faultline probe --json}. */
    static ProbeReport fromJson(String json) throws IOException {
        JsonNode o = new ObjectMapper().readTree(json);
        List<String> names = new ArrayList<>();
        o.path("features").forEach(n -> names.add(n.asText()));
        Map<Long, Long> huge = new LinkedHashMap<>();
        o.path("huge_pages").properties().forEach(e -> huge.put(Long.parseLong(e.getKey()), e.getValue().asLong()));
        List<ProbeCell> cells = new ArrayList<>();
        for (JsonNode c : o.path("cells")) {
            cells.add(new ProbeCell(Backend.parse(c.path("backend").asText()), RegisterMode.valueOf(c.path("mode").asText()),
                    ResolveIoctl.valueOf(c.path("ioctl").asText()), c.path("supported").asBoolean(),
                    c.path("errno").isNull() ? null : c.path("errno").asText(),
                    c.path("stage").isNull() ? null : ProbeCell.Stage.valueOf(c.path("stage").asText().toUpperCase(Locale.ROOT)),
                    c.path("detail").isNull() ? null : c.path("detail").asText()));
        }
        return new ProbeReport(o.path("kernel").asText(), Long.decode(o.path("features_mask").asText("0")), names,
                o.path("opened_via").asText(), huge, cells);
    }

    /** The matrix: feature bits, then one row per backend × mode × ioctl; {@code ≠} marks a row the kernels differ on. */
    static void print(List<Column> columns, GuestConfig config, PrintWriter out) {
        int w = 14;
        for (Column c : columns) {
            w = Math.max(w, c.target().label().length() + 2);
        }
        String cell = "%-" + w + "s";
        StringBuilder head = new StringBuilder(String.format(Locale.ROOT, "%-36s", ""));
        StringBuilder where = new StringBuilder(String.format(Locale.ROOT, "%-36s", "runs in"));
        for (Column c : columns) {
            head.append(String.format(Locale.ROOT, cell, c.target().label()));
            where.append(String.format(Locale.ROOT, cell, c.where().startsWith("guest") ? "guest" : c.where()));
        }
        out.println(head.toString().stripTrailing());
        out.println(where.toString().stripTrailing());
        for (Column c : columns) {
            if (c.report() == null) {
                out.println("  " + c.target().label() + ": not probed: " + c.failure());
            }
        }
        out.println();
        Set<String> features = new LinkedHashSet<>();
        for (Column c : columns) {
            if (c.report() != null) {
                features.addAll(c.report().featureNames());
            }
        }
        out.println("uffd features (UFFDIO_API)");
        for (String f : features) {
            List<String> values = new ArrayList<>();
            for (Column c : columns) {
                values.add(c.report() == null ? "" : c.report().featureNames().contains(f) ? "yes" : "-");
            }
            row(out, "  " + f, values, cell, differs(values));
        }
        out.println();
        out.println(String.format(Locale.ROOT, "%-12s %-8s %-12s", "backend", "mode", "ioctl"));
        for (Backend b : Backend.values()) {
            for (RegisterMode m : RegisterMode.values()) {
                for (ResolveIoctl op : ResolveIoctl.resolving()) {
                    List<String> values = new ArrayList<>();
                    boolean any = false;
                    boolean mapOnly = true;
                    for (Column c : columns) {
                        ProbeCell pc = c.report() == null ? null : ProbeCommand.find(c.report(), b, m, op);
                        any |= pc != null;
                        values.add(pc == null ? "" : pc.shortText());
                        mapOnly &= pc == null || pc.supported() || pc.stage() == ProbeCell.Stage.MAP;
                    }
                    if (any) {
                        row(out, String.format(Locale.ROOT, "%-12s %-8s %-12s", b.label(), m.name(), op.name()), values, cell,
                                differs(values) && !mapOnly);
                    }
                }
            }
        }
        out.println();
        out.println("ok: a real fault was resolved by the ioctl and the page read back right; ERRNO: the ioctl's answer;");
        out.println("reg:ERRNO: UFFDIO_REGISTER's; map:ERRNO: mapping the region's (huge pages depend on each machine's reservation).");
        out.println("≠: the kernels answer differently (not counting map: cells).");
        if (columns.stream().anyMatch(c -> c.where().startsWith("guest"))) {
            out.println("guests: " + config.describe() + (config.accel() == Accel.TCG ? " — TCG emulates every instruction, so "
                    + "timings from these guests are for function only" : "")
                    + (Accel.hostIsVirtual() ? "; this machine is itself a VM, so its guests are nested" : ""));
        }
    }

    private static boolean differs(List<String> values) {
        return values.stream().filter(v -> !v.isEmpty()).distinct().count() > 1;
    }

    private static void row(PrintWriter out, String label, List<String> values, String cell, boolean mark) {
        StringBuilder b = new StringBuilder(String.format(Locale.ROOT, "%-36s", label));
        for (String v : values) {
            b.append(String.format(Locale.ROOT, cell, v));
        }
        out.println((b.toString().stripTrailing() + (mark ? "  ≠" : "")));
    }

    /** The {@code --json} object of a cross-kernel probe: one entry per kernel. */
    static Map<String, Object> toJson(List<Column> columns, GuestConfig config) throws IOException {
        ObjectMapper json = new ObjectMapper();
        List<Object> kernels = new ArrayList<>();
        for (Column c : columns) {
            Map<String, Object> k = new LinkedHashMap<>();
            k.put("kernel", c.target().label());
            k.put("image", c.target().isHost() ? "host" : c.target().image().image().toString());
            k.put("runs_in", c.where());
            k.put("failure", c.failure());
            k.put("probe", c.report() == null ? null : json.readTree(ProbeCommand.toJson(c.report())));
            kernels.add(k);
        }
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("guest", config.describe());
        o.put("kernels", kernels);
        return o;
    }

    static boolean allProbed(List<Column> columns) {
        return columns.stream().map(Column::report).allMatch(Objects::nonNull);
    }
}
