package dev.faultline.guest;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * The directory where {@code scripts/fetch-kernel} unpacks Debian kernel packages
 * ({@code $FAULTLINE_KERNELS}, else {@code ~/.cache/faultline/kernels}), one
 * {@code linux-image-RELEASE/} per kernel, so that {@code --kernel 6.1.0-47-amd64} can name one by
 * its release.
 */
public final class KernelCache {
    private KernelCache() {
    }

    /** The cache directory (it may not exist). */
    public static Path dir() {
        String env = System.getenv("FAULTLINE_KERNELS");
        return env != null && !env.isBlank() ? Path.of(env) : Path.of(System.getProperty("user.home"), ".cache", "faultline", "kernels");
    }

    /** The unpacked package of {@code release}, or null when the cache has none. */
    public static Path find(String release) {
        Path p = dir().resolve("linux-image-" + release);
        return Files.isDirectory(p.resolve("boot")) ? p : null;
    }

    /** The releases unpacked there, sorted; empty when there is no cache. */
    public static List<String> releases() {
        if (!Files.isDirectory(dir())) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(dir())) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("linux-image-") && !n.endsWith(".partial"))
                    .map(n -> n.substring("linux-image-".length())).sorted().toList();
        } catch (IOException e) {
            return List.of();
        }
    }
}
