package dev.faultline.collector.passive;

/** A passive capture that cannot start or went wrong; the message is one line saying why and what to do. */
public final class CaptureException extends RuntimeException {
    public CaptureException(String message) {
        super(message);
    }

    public CaptureException(String message, Throwable cause) {
        super(message, cause);
    }
}
