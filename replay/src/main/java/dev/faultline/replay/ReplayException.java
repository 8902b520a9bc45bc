package dev.faultline.replay;

/**
 * A replay that cannot start or did not finish, with a one-line message that says what was
 * attempted and why it failed. Thrown before anything is mapped wherever the cause is knowable then.
 */
public final class ReplayException extends RuntimeException {
    public ReplayException(String message) {
        super(message);
    }

    public ReplayException(String message, Throwable cause) {
        super(message, cause);
    }
}
