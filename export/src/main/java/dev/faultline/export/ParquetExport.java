package dev.faultline.export;

import dev.faultline.core.trace.OutputFile;
import dev.faultline.core.trace.ParallelTasks;
import dev.faultline.core.trace.TraceEvent;
import dev.faultline.core.trace.TraceHeader;
import dev.faultline.core.trace.TraceReader;
import org.apache.parquet.conf.ParquetConfiguration;
import org.apache.parquet.conf.PlainParquetConfiguration;
import org.apache.parquet.hadoop.ParquetFileWriter;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.parquet.hadoop.api.WriteSupport;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;
import org.apache.parquet.io.LocalOutputFile;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes traces and replay results as Parquet under one directory, one file per trace and backend
 * in {@code kernel=RELEASE/backend=NAME/} ({@link HivePartition}), every row with the columns of
 * {@link ExportSchema}: what a {@code SELECT … GROUP BY} in Spark, DuckDB or Trino reads without
 * Faultline.
 *
 * <p>Memory is bounded whatever a trace's length: a trace is read one Arrow batch at a time and
 * each open Parquet file buffers at most one row group ({@link #ROW_GROUP_BYTES}). Traces are
 * exported on up to {@link #THREADS} threads. A file is written under a hidden {@code .partial}
 * name that engines skip, and renamed into place only once complete; if a trace fails, its partial
 * files are removed and the files of traces already done stay. A file's name is fixed by the
 * trace's identity (host, start, name), so exporting a trace again replaces its files rather than
 * adding rows twice.
 */
public final class ParquetExport {
    /** Bytes a Parquet file buffers before it writes a row group. */
    public static final long ROW_GROUP_BYTES = 32L << 20;
    /** Traces exported at once at most: one per core, no more than 4. */
    public static final int THREADS = Math.min(4, Runtime.getRuntime().availableProcessors());

    private ParquetExport() {
    }

    /**
     * Exports {@code traces} under {@code root} (created if missing). Returns what each trace
     * became, in the order given.
     *
     * @throws IOException naming the trace and what failed, for the first trace that failed
     */
    public static List<ExportedTrace> export(List<Path> traces, Path root, ExportListener listener) throws IOException {
        ExportFiles.prepareDirectory(root);
        traces = distinct(traces);
        return ParallelTasks.map(traces, THREADS, "faultline-export", "export", t -> {
            ExportedTrace done = exportOne(t, root, listener);
            listener.exported(done);
            return done;
        });
    }

    /** {@code traces} with a file given twice (a glob that overlaps another) kept once, in first-seen order. */
    private static List<Path> distinct(List<Path> traces) {
        java.util.Set<Path> seen = new java.util.HashSet<>();
        List<Path> out = new ArrayList<>();
        for (Path t : traces) {
            Path key;
            try {
                key = t.toRealPath();
            } catch (IOException e) {
                key = t.toAbsolutePath().normalize(); // missing: exportOne says so
            }
            if (seen.add(key)) {
                out.add(t);
            }
        }
        return out;
    }

    /** One trace, into one file per backend its rows have. */
    static ExportedTrace exportOne(Path trace, Path root, ExportListener listener) throws IOException {
        Map<String, Open> open = new LinkedHashMap<>();
        long rows = 0;
        try (TraceReader r = TraceReader.open(trace)) {
            TraceHeader h = r.header();
            ExportFiles.refuseSummary(r, trace);
            String name = trace.getFileName().toString();
            String stem = name.replaceFirst("\\.arrow$", "").replaceAll("[^A-Za-z0-9._+-]", "_");
            String id = identity(h, name);
            Map<String, String> footer = footer(h, name);
            TraceEvent e = new TraceEvent();
            while (r.nextBatch()) {
                int batch = r.batchRows();
                for (int i = 0; i < batch; i++) {
                    r.read(i, e);
                    String backend = r.backend(i);
                    Open o = open.get(backend);
                    if (o == null) {
                        o = Open.create(HivePartition.of(root, h.kernel(), backend), "part-" + stem + "-" + id + ".parquet",
                                new TraceRowWriteSupport(new ExportRow(name, h), footer));
                        open.put(backend, o);
                    }
                    o.support.pageSize(r.pageSize(i));
                    o.writer.write(e);
                }
                rows += batch;
                listener.rows(batch);
            }
            List<Path> files = new ArrayList<>();
            for (Open o : open.values()) {
                files.add(o.finish());
            }
            return new ExportedTrace(trace, rows, files, r.recovered() ? r.recoveryNote() : null);
        } catch (IOException | RuntimeException ex) {
            for (Open o : open.values()) {
                o.abandon();
            }
            throw ExportFiles.failed(trace, ex);
        }
    }

    /** Eight bytes of SHA-256 over what tells this trace from another with the same file name. */
    private static String identity(TraceHeader h, String name) {
        try {
            MessageDigest d = MessageDigest.getInstance("SHA-256");
            for (String s : new String[] {h.host(), h.startedAt(), h.source(), h.command(), name}) {
                d.update(s.getBytes(StandardCharsets.UTF_8));
                d.update((byte) 0);
            }
            return HexFormat.of().formatHex(d.digest(), 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e); // every JDK has SHA-256
        }
    }

    /** The Parquet footer's key-value metadata: the trace's own header keys, and where the rows came from. */
    private static Map<String, String> footer(TraceHeader h, String name) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("faultline.export", "1");
        m.put("faultline.trace", name);
        m.put(TraceHeader.KEY_KERNEL, h.kernel());
        m.put(TraceHeader.KEY_HOST, h.host());
        m.put(TraceHeader.KEY_SOURCE, h.source());
        m.put(TraceHeader.KEY_COMMAND, h.command());
        m.put(TraceHeader.KEY_STARTED_AT, h.startedAt());
        m.put(TraceHeader.KEY_FEATURES, Long.toString(h.features()));
        return m;
    }

    /** A Parquet file being written under its hidden partial name. */
    private record Open(Path partial, Path target, TraceRowWriteSupport support, ParquetWriter<TraceEvent> writer) {
        static Open create(Path dir, String fileName, TraceRowWriteSupport support) throws IOException {
            Files.createDirectories(dir);
            // a name of its own per writer: two copies of one trace (the same identity) may be exported at once
            Path partial = dir.resolve("." + fileName + "." + Long.toHexString(java.util.concurrent.ThreadLocalRandom.current()
                    .nextLong()) + ".partial");
            ParquetWriter<TraceEvent> w = new Builder(new LocalOutputFile(partial), support)
                    .withConf(new PlainParquetConfiguration())
                    .withCodecFactory(new ZstdCodecFactory())
                    .withCompressionCodec(CompressionCodecName.ZSTD)
                    .withRowGroupSize(ROW_GROUP_BYTES)
                    .withWriteMode(ParquetFileWriter.Mode.OVERWRITE)
                    .build();
            return new Open(partial, dir.resolve(fileName), support, w);
        }

        Path finish() throws IOException {
            writer.close();
            OutputFile.moveIntoPlace(partial, target);
            return target;
        }

        void abandon() {
            try {
                writer.close();
            } catch (IOException | RuntimeException ignored) {
                // the file goes anyway
            }
            try {
                Files.deleteIfExists(partial);
            } catch (IOException ignored) {
                // nothing more can be done; it is hidden from engines by its name
            }
        }
    }

    /** Parquet's writer builder for {@link TraceRowWriteSupport}. */
    private static final class Builder extends ParquetWriter.Builder<TraceEvent, Builder> {
        private final WriteSupport<TraceEvent> support;

        Builder(LocalOutputFile file, WriteSupport<TraceEvent> support) {
            super(file);
            this.support = support;
        }

        @Override
        protected Builder self() {
            return this;
        }

        @Override
        protected WriteSupport<TraceEvent> getWriteSupport(ParquetConfiguration conf) {
            return support;
        }

        @Override
        @Deprecated
        protected WriteSupport<TraceEvent> getWriteSupport(org.apache.hadoop.conf.Configuration conf) {
            return support; // not called: built with a plain configuration
        }
    }
}
