package dev.faultline.cli;

import java.io.PrintWriter;
import java.io.StringWriter;

/** Test helper: one in-process run of the faultline command line, with what it printed. */
record CliRun(int exit, String out, String err) {
    /** A run under way on a thread of its own: what it has printed so far, and its end. */
    static final class Running {
        private final StringWriter out = new StringWriter();
        private final StringWriter err = new StringWriter();
        private final Thread thread;
        private volatile int exit = Integer.MIN_VALUE;

        Running(String... args) {
            var cl = Faultline.commandLine(args);
            cl.setOut(new PrintWriter(out, true));
            cl.setErr(new PrintWriter(err, true));
            thread = Thread.ofPlatform().name("faultline-cli-run").start(() -> exit = cl.execute(args));
        }

        /** What it wrote to stderr so far. */
        String err() {
            return err.toString();
        }

        /** Waits up to {@code millis} until stderr holds {@code text}; false on timeout or when the run ended first. */
        boolean awaitErr(String text, long millis) throws InterruptedException {
            long deadline = System.currentTimeMillis() + millis;
            while (!err().contains(text)) {
                if (!thread.isAlive() || System.currentTimeMillis() > deadline) {
                    return err().contains(text);
                }
                Thread.sleep(20);
            }
            return true;
        }

        /** Waits for the end, up to {@code millis}. */
        CliRun join(long millis) throws InterruptedException {
            thread.join(millis);
            if (thread.isAlive()) {
                throw new AssertionError("the command did not end within " + millis + " ms; stderr: " + err());
            }
            return new CliRun(exit, out.toString(), err.toString());
        }
    }

    /** Starts a run on its own thread. */
    static Running start(String... args) {
        return new Running(args);
    }

    static CliRun of(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        var cl = Faultline.commandLine(args);
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int exit = cl.execute(args);
        return new CliRun(exit, out.toString(), err.toString());
    }
}
