package dev.faultline.guest;

import java.util.List;

/**
 * Why a guest could not be booted or could not finish a command: a one-line message naming the
 * kernel and what was attempted, and the last lines its console printed (empty before it booted).
 */
public final class GuestException extends Exception {
    private final List<String> console;

    /** A failure with no console to show (bad image, missing module, no QEMU). */
    public GuestException(String message) {
        this(message, List.of());
    }

    /** A failure of a running guest, with its console's last lines. */
    public GuestException(String message, List<String> console) {
        super(message);
        this.console = List.copyOf(console);
    }

    /** The console's last lines, oldest first. */
    public List<String> console() {
        return console;
    }
}
