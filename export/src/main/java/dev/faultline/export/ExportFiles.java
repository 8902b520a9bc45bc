package dev.faultline.export;

import dev.faultline.core.trace.TraceFormatException;
import dev.faultline.core.trace.TraceReader;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** What every export format does alike: which files it takes, how a file comes into place, how a failure reads. */
final class ExportFiles {
    private ExportFiles() {
    }

    /** Makes {@code dir} (and its parents) for an export's files; refuses a file in its place. */
    static void prepareDirectory(Path dir) throws IOException {
        if (Files.exists(dir) && !Files.isDirectory(dir)) {
            throw new IOException("cannot export into " + dir + ": it is a file, not a directory");
        }
        Files.createDirectories(dir);
    }

    /** Refuses a summary capture: it has no row per fault to export. */
    static void refuseSummary(TraceReader r, Path trace) throws TraceFormatException {
        if (r.hasSummaryColumns()) {
            throw new TraceFormatException(trace + " is a summary (histograms per group and interval, no row per fault): "
                    + "export takes traces and replay results; analyze a summary directly");
        }
    }

    /** {@code failure} as one line that names {@code trace} (as it is when it already does). */
    static IOException failed(Path trace, Exception failure) {
        if (failure instanceof IOException io && io.getMessage() != null && io.getMessage().contains(trace.toString())) {
            return io;
        }
        if (failure instanceof java.io.UncheckedIOException u) {
            return failed(trace, u.getCause());
        }
        return new IOException("cannot export " + trace + ": " + (failure.getMessage() != null ? failure.getMessage()
                : failure.getClass().getSimpleName()), failure);
    }
}
