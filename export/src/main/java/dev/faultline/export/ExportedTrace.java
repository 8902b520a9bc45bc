package dev.faultline.export;

import java.nio.file.Path;
import java.util.List;

/**
 * What one trace became in an export.
 *
 * @param trace        the trace or results file read
 * @param rows         its rows, all written
 * @param files        the files written (Parquet: one per backend), in place and complete
 * @param recoveryNote why the trace ended early (its writer died: rows up to its last complete batch), or null
 */
public record ExportedTrace(Path trace, long rows, List<Path> files, String recoveryNote) {
}
