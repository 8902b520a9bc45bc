package dev.faultline.guest;

import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/** Test helper: a Debian 6.1 kernel scripts/fetch-kernel unpacked (run-tests calls it), or a skip saying so. */
public final class TestKernels {
    private TestKernels() {
    }

    /** The first unpacked linux-image-6.1.* package's image, or the test is skipped with the reason. */
    public static Path debian61() throws IOException {
        String release = KernelCache.releases().stream().filter(r -> r.startsWith("6.1.")).findFirst().orElse(null);
        Assumptions.assumeTrue(release != null, "no linux-image-6.1.* under " + KernelCache.dir()
                + ": run scripts/fetch-kernel (run-tests does)");
        try (Stream<Path> boot = Files.list(KernelCache.find(release).resolve("boot"))) {
            return boot.filter(p -> p.getFileName().toString().startsWith("vmlinuz-")).findFirst().orElseThrow();
        }
    }

    /** Whether QEMU is installed, or the test is skipped with the reason. */
    public static void assumeQemu() {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/qemu-system-x86_64")),
                "no qemu-system-x86_64: apt-get install qemu-system-x86 (run-tests does)");
    }
}
