package dev.faultline.cli;

/**
 * A usage error where a command runs without picocli ({@link GuestReplay}): its message is the one
 * line picocli's {@code ParameterException} would carry, and it ends the run with exit status 2.
 */
final class UsageError extends RuntimeException {
    UsageError(String message) {
        super(message);
    }
}
