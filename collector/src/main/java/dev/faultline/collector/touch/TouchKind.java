package dev.faultline.collector.touch;

import java.util.Locale;

/**
 * How a faulting thread touches a page, always from native code (docs/design.md §5).
 * {@link #KERNEL} makes the kernel do the access (write(2) of the page into a pipe), the only safe
 * way to meet a poisoned page: a user-mode access to one is a SIGBUS.
 */
public enum TouchKind {
    READ,
    WRITE,
    KERNEL;

    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
