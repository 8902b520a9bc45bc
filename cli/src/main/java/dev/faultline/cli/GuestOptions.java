package dev.faultline.cli;

import dev.faultline.guest.Accel;
import dev.faultline.guest.GuestConfig;
import dev.faultline.guest.GuestException;
import dev.faultline.guest.KernelCache;
import dev.faultline.guest.KernelImage;
import picocli.CommandLine;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The options that run a command under other kernels ({@code --kernel}, repeatable) and size their
 * guests, shared by probe and replay. Every guest of one command gets the same size, CPUs and
 * pinning, so that guests differ only in their kernel.
 */
final class GuestOptions {
    @Option(names = "--kernel", paramLabel = "IMAGE", description = {
        "Run under this kernel, booted in a QEMU guest that sees this machine's root filesystem read-only: a vmlinuz "
            + "file, an unpacked Debian package directory, or the release of one that scripts/fetch-kernel unpacked "
            + "(e.g. 6.1.0-47-amd64); 'host' is this machine's own kernel, without a guest. Repeat it to compare "
            + "kernels: each one runs the same command."})
    List<String> kernels = new ArrayList<>();

    @Option(names = "--guest-memory", paramLabel = "SIZE", description = "Each guest's RAM (default: ${DEFAULT-VALUE}).")
    String memory = "2G";

    @Option(names = "--guest-cpus", paramLabel = "N", description = "Each guest's vCPUs (default: 2 under KVM, 1 under TCG, "
            + "where QEMU 7.2's one-thread-per-vCPU emulation crashed a JVM running on two vCPUs about every other run).")
    Integer cpus;

    @Option(names = "--guest-huge-pages", paramLabel = "N", description = "2 MiB huge pages each guest reserves at boot, for hugetlb2m (default: ${DEFAULT-VALUE}).")
    int hugePages = 64;

    @Option(names = "--guest-pin", paramLabel = "CPUS", description = "Pin every guest to these host CPUs (a taskset list such as 0-1; default: not pinned, all alike).")
    String pin;

    @Option(names = "--accel", paramLabel = "HOW", description = "kvm, tcg or auto: KVM where this machine has hardware virtualisation, else TCG (emulated; timings for function only) (default: ${DEFAULT-VALUE}).")
    String accel = "auto";

    @Option(names = "--boot-timeout", paramLabel = "TIME", description = "Kill a guest that has not booted within this (default: ${DEFAULT-VALUE}).")
    String bootTimeout = "120s";

    @Option(names = "--guest-timeout", paramLabel = "TIME", description = "Kill a guest whose command has not finished within this (default: ${DEFAULT-VALUE}).")
    String runTimeout = "30min";

    /** Whether any {@code --kernel} was given. */
    boolean any() {
        return !kernels.isEmpty();
    }

    /**
     * The kernels named, opened (a bad image is a usage error in one line), labelled by release;
     * a release named twice gets {@code #2}, {@code #3}….
     */
    List<KernelTarget> targets(CommandLine cl) {
        List<KernelTarget> out = new ArrayList<>();
        Map<String, Integer> seen = new HashMap<>();
        for (String k : kernels) {
            KernelImage image = null;
            String release;
            if (k.equals("host")) {
                release = dev.faultline.core.probe.CapabilityProbe.kernelRelease();
            } else {
                Path path = Path.of(k);
                if (!Files.exists(path) && KernelCache.find(k) != null) {
                    path = KernelCache.find(k);
                }
                try {
                    image = KernelImage.open(path);
                } catch (GuestException e) {
                    List<String> cached = KernelCache.releases();
                    throw new CommandLine.ParameterException(cl, "--kernel: " + e.getMessage() + (Files.exists(path) ? ""
                            : cached.isEmpty() ? "; scripts/fetch-kernel downloads Debian's" : "; " + KernelCache.dir() + " holds " + String.join(", ", cached)));
                }
                release = image.release();
            }
            int n = seen.merge(release, 1, Integer::sum);
            out.add(new KernelTarget(n == 1 ? release : release + "#" + n, image));
        }
        return out;
    }

    /** The guests' configuration; a bad value is a usage error. */
    GuestConfig config(CommandLine cl) {
        try {
            Accel a = Accel.parse(accel);
            int n = cpus != null ? cpus : a == Accel.KVM ? 2 : 1;
            return new GuestConfig(Math.toIntExact(mebibytes(memory)), n, a, pin, hugePages,
                    Duration.ofNanos(Options.durationNanos(cl, bootTimeout, "--boot-timeout")),
                    Duration.ofNanos(Options.durationNanos(cl, runTimeout, "--guest-timeout")));
        } catch (IllegalArgumentException | ArithmeticException e) {
            throw new CommandLine.ParameterException(cl, e.getMessage());
        }
    }

    private static long mebibytes(String s) {
        String w = s.trim().toUpperCase(Locale.ROOT).replace("IB", "");
        long scale = w.endsWith("G") ? 1024 : w.endsWith("M") ? 1 : 0;
        if (scale == 0) {
            throw new IllegalArgumentException("--guest-memory: '" + s + "' is not a size (expected e.g. 2G or 1536M)");
        }
        try {
            return Long.parseLong(w.substring(0, w.length() - 1)) * scale;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--guest-memory: '" + s + "' is not a size (expected e.g. 2G or 1536M)");
        }
    }
}
