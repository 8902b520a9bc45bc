package dev.faultline.cli;

import java.io.PrintWriter;

/**
 * A progress line on stderr: rewritten in place on a terminal, one line per update otherwise
 * (so logs of CI runs stay readable).
 */
final class ProgressLine {
    private final PrintWriter err;
    private final boolean terminal = System.console() != null && System.console().isTerminal();
    private int shown;

    ProgressLine(PrintWriter err) {
        this.err = err;
    }

    void show(String text) {
        if (terminal) {
            err.print("\r" + text + " ".repeat(Math.max(0, shown - text.length())));
            shown = text.length();
        } else {
            err.println(text);
        }
        err.flush();
    }

    /** Removes the line on a terminal. */
    void clear() {
        if (terminal && shown > 0) {
            err.print("\r" + " ".repeat(shown) + "\r");
            err.flush();
            shown = 0;
        }
    }
}
