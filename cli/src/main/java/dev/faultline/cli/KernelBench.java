package dev.faultline.cli;

import dev.faultline.guest.GuestConfig;
import dev.faultline.guest.GuestException;
import dev.faultline.guest.GuestVm;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * {@code faultline bench --kernel A --kernel B}: the same JMH suites under each kernel in turn (in
 * its guest, or on this machine for {@code host}), one JMH JSON file per kernel named after its
 * release, for {@code faultline compare}.
 */
final class KernelBench {
    private KernelBench() {
    }

    /**
     * Runs {@code faultline bench ARGS} under every target; returns 0 when each wrote its results,
     * 1 when one could not (the others' files are kept).
     */
    static int run(List<String> benchArgs, Path output, List<KernelTarget> targets, GuestConfig config, PrintWriter out,
                   PrintWriter err) throws IOException {
        Path work = KernelSession.workDir();
        List<Path> written = new ArrayList<>();
        boolean failed = false;
        ProgressLine line = new ProgressLine(err);
        for (int i = 0; i < targets.size(); i++) {
            KernelTarget t = targets.get(i);
            try (KernelSession s = KernelSession.open(t, config, work.resolve("kernel-" + i), err)) {
                List<String> args = new ArrayList<>(List.of("bench"));
                args.addAll(benchArgs);
                args.addAll(List.of("-o", s.path("bench.json")));
                GuestVm.Result r = s.faultline(args, p -> line.show(t.label() + "  " + p));
                line.clear();
                if (r.exit() != 0) {
                    err.println("faultline bench: " + t.label() + ": " + KernelSession.why(r));
                    failed = true;
                    continue;
                }
                Path file = t.fileFor(output, ".json");
                Files.move(s.scratch.resolve("bench.json"), file, StandardCopyOption.REPLACE_EXISTING);
                written.add(file);
                err.printf(Locale.ROOT, "%s: wrote %s%n", t.label(), file);
            } catch (GuestException e) {
                line.clear();
                failed = true;
                KernelSession.report("bench", e, err);
            }
            err.flush();
        }
        KernelSession.finish(work, failed, "bench", err);
        for (Path p : written) {
            out.println("wrote " + p);
        }
        if (written.size() >= 2) {
            out.println("next: faultline compare " + written.get(0) + " " + written.get(1) + " -o cmp");
        }
        out.flush();
        return failed ? 1 : 0;
    }
}
