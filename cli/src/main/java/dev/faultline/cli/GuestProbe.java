package dev.faultline.cli;

import dev.faultline.core.probe.CapabilityProbe;
import dev.faultline.core.probe.ProbeReport;
import dev.faultline.core.region.Backend;

import java.util.ArrayList;
import java.util.List;

/**
 * The main class of {@code faultline probe --kernel} inside a guest (or on the host for
 * {@code --kernel host}): the probe of {@code faultline probe --json}, its one option handed over
 * as {@code backend=NAME,NAME…} by the host, which has already parsed and checked it.
 *
 * <p>It exists for the guest's start, as {@link GuestReplay} does: building picocli's model of a
 * command took 3-4 s of a TCG guest's JVM. Prints the same JSON object as {@code faultline probe
 * --json}; exit status 0, 1 with one {@code faultline probe: WHY} line when no userfaultfd could be
 * opened, 2 for a usage error.
 */
final class GuestProbe {
    private GuestProbe() {
    }

    /** The arguments that probe {@code backends}. */
    static List<String> args(List<Backend> backends) {
        return List.of("backend=" + String.join(",", backends.stream().map(Backend::label).toList()));
    }

    public static void main(String[] args) {
        GuestMain.run("probe", (out, err) -> {
            List<Backend> backends = backends(args);
            long start = System.nanoTime();
            ProbeReport report = new CapabilityProbe().run(backends, b -> err.println("probing " + b));
            err.println("probed " + report.cells().size() + " cells in " + Units.nanos(System.nanoTime() - start));
            out.println(ProbeCommand.toJson(report));
            return 0;
        });
    }

    private static List<Backend> backends(String[] args) {
        if (args.length != 1 || !args[0].startsWith("backend=")) {
            throw new UsageError("expected one argument, backend=NAME[,NAME…], not " + String.join(" ", args));
        }
        List<Backend> out = new ArrayList<>();
        for (String name : args[0].substring("backend=".length()).split(",")) {
            try {
                out.add(Backend.parse(name));
            } catch (IllegalArgumentException e) {
                throw new UsageError("backend: " + e.getMessage());
            }
        }
        return out;
    }
}
