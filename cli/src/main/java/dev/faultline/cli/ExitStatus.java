package dev.faultline.cli;

/**
 * The exit statuses every command shares, as their {@code --help} lists them (picocli's
 * {@code exitCodeList}: "status:meaning"). Commands add their own (compare's verdicts, record's 127).
 */
final class ExitStatus {
    static final String HEADING = "%nExit status:%n";
    static final String OK = "0:done";
    static final String FAILED = "1:the work failed: one line on stderr says what was attempted and why";
    static final String USAGE = "2:a usage error: its line and where the help is, on stderr";

    private ExitStatus() {
    }
}
