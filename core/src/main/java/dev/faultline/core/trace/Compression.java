package dev.faultline.core.trace;

import java.util.Locale;

/** How a trace's Arrow buffers are compressed. ZSTD is the default; NONE is for readers without codecs. */
public enum Compression {
    ZSTD,
    NONE;

    /** Parses {@code zstd} or {@code none}. */
    public static Compression parse(String s) {
        try {
            return valueOf(s.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown compression '" + s + "' (expected zstd or none)");
        }
    }
}
