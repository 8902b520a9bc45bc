/**
 * Trace rows out to the engines fleets already compute on: {@link dev.faultline.export.ParquetExport}
 * writes every row of traces and replay results as Parquet (ZSTD), one directory per kernel release
 * and backend ({@code kernel=…/backend=…/}, Hive-style), with the trace's metadata as columns.
 */
package dev.faultline.export;
