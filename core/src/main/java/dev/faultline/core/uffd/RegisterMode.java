package dev.faultline.core.uffd;

import dev.faultline.core.abi.UffdAbi;

/**
 * A userfaultfd registration mode ({@code UFFDIO_REGISTER_MODE_*}): which faults on a range are
 * reported. A range may be registered in several modes at once by OR-ing their {@link #bits()}.
 */
public enum RegisterMode {
    /** Faults on pages that are not present: resolved by COPY, ZEROPAGE, MOVE or POISON. */
    MISSING(UffdAbi.UFFDIO_REGISTER_MODE_MISSING),
    /** Writes to write-protected pages: resolved by WRITEPROTECT with mode 0. */
    WP(UffdAbi.UFFDIO_REGISTER_MODE_WP),
    /** Faults on pages present in the page cache but not mapped: resolved by CONTINUE. */
    MINOR(UffdAbi.UFFDIO_REGISTER_MODE_MINOR);

    private final long bits;

    RegisterMode(long bits) {
        this.bits = bits;
    }

    /** The mode's bit in {@code uffdio_register.mode}. */
    public long bits() {
        return bits;
    }

    /** The modes in {@code bits}, joined with '|' (e.g. {@code MISSING|WP}), for traces and errors. */
    public static String names(long bits) {
        StringBuilder sb = new StringBuilder();
        for (RegisterMode m : values()) {
            if ((bits & m.bits) != 0) {
                sb.append(sb.isEmpty() ? "" : "|").append(m.name());
            }
        }
        return sb.toString();
    }

    /** The bits of a '|'-separated list of mode names, as {@link #names(long)} writes them. */
    public static long parse(String names) {
        long bits = 0;
        for (String n : names.split("\\|")) {
            if (!n.isBlank()) {
                bits |= valueOf(n.trim().toUpperCase(java.util.Locale.ROOT)).bits;
            }
        }
        return bits;
    }
}
