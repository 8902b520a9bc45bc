package dev.faultline.core.trace;

import java.io.IOException;

/**
 * A file that is not a readable Faultline trace: not Arrow, another Arrow schema, a newer format
 * version, or damaged beyond recovery. The message is one line naming the file and the reason.
 */
public class TraceFormatException extends IOException {
    public TraceFormatException(String message) {
        super(message);
    }

    public TraceFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
