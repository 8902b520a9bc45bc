package dev.faultline.cli;

import dev.faultline.guest.KernelImage;

import java.nio.file.Path;

/**
 * One kernel of a cross-kernel command: this machine's own ({@code image} null) or an image booted
 * in a guest. {@code label} is its release (with {@code #n} when two images share one), the name
 * output and results files use for it.
 */
record KernelTarget(String label, KernelImage image) {
    boolean isHost() {
        return image == null;
    }

    /** This kernel's file of a per-kernel output: {@code r.arrow} → {@code r.6.1.0-47-amd64.arrow} (for {@code suffix} ".arrow"). */
    Path fileFor(Path output, String suffix) {
        String name = output.getFileName().toString();
        int dot = name.endsWith(suffix) ? name.length() - suffix.length() : name.length();
        return output.toAbsolutePath().resolveSibling(name.substring(0, dot) + "." + label.replace('/', '_') + suffix);
    }
}
