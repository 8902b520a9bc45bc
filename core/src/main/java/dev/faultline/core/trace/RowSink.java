package dev.faultline.core.trace;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Where a recorder's rows go: a results file ({@link TraceWriter}) or a flat spill file written
 * into one later ({@link RowSpill}).
 *
 * <p>Invariant: {@link #rowsFlushed()} ≤ {@link #rowsAppended()}, and every row appended before a
 * {@link #flush()} that returned is in the file.
 */
public interface RowSink {
    /** Appends one row (the sink copies what it keeps; {@code e} may be reused at once). */
    void append(TraceEvent e) throws IOException;

    /** Puts every row appended so far into the file. */
    void flush() throws IOException;

    /** Rows appended so far, flushed or not. */
    long rowsAppended();

    /** Rows already in the file. */
    long rowsFlushed();

    /** The file written, for messages. */
    Path path();
}
