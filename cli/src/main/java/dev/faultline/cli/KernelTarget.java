package dev.faultline.cli;

import dev.faultline.guest.KernelImage;

/**
 * One kernel of a cross-kernel command: this machine's own ({@code image} null) or an image booted
 * in a guest. {@code label} is its release (with {@code #n} when two images share one), the name
 * output and results files use for it.
 */
record KernelTarget(String label, KernelImage image) {
    boolean isHost() {
        return image == null;
    }
}
