package dev.faultline.cli;

import java.io.PrintWriter;

/**
 * What {@link GuestReplay} and {@link GuestProbe} share as main classes: stdout and stderr
 * writers, a usage error as one {@code faultline COMMAND: WHY} line and exit status 2, any other
 * failure as one such line and exit status 1 (with its stack trace when {@code FAULTLINE_DEBUG}
 * is set), and the JVM's exit with the command's status.
 */
final class GuestMain {
    /** A guest command's work: its exit status. */
    interface Body {
        int run(PrintWriter out, PrintWriter err) throws Exception;
    }

    private GuestMain() {
    }

    /** Runs {@code body} as {@code faultline command} and exits the JVM with its status. */
    static void run(String command, Body body) {
        PrintWriter out = new PrintWriter(System.out, true);
        PrintWriter err = new PrintWriter(System.err, true);
        int exit;
        try {
            exit = body.run(out, err);
        } catch (UsageError e) {
            err.println("faultline " + command + ": " + e.getMessage());
            exit = 2;
        } catch (Exception e) {
            err.println("faultline " + command + ": " + Faultline.oneLine(e));
            if (System.getenv("FAULTLINE_DEBUG") != null) {
                e.printStackTrace(err);
            }
            exit = Faultline.EXIT_FAILED;
        }
        out.flush();
        err.flush();
        StopOnSignal.reported();
        System.exit(exit);
    }
}
