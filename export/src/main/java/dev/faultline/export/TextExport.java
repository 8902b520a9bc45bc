package dev.faultline.export;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.util.MinimalPrettyPrinter;
import com.fasterxml.jackson.dataformat.csv.CsvGenerator;
import com.fasterxml.jackson.dataformat.csv.CsvMapper;
import com.fasterxml.jackson.dataformat.csv.CsvSchema;
import dev.faultline.core.trace.OutputFile;
import dev.faultline.core.trace.TraceEvent;
import dev.faultline.core.trace.TraceReader;
import org.apache.parquet.io.api.Binary;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Trace rows as CSV (with a header line) or JSON Lines, for pandas, spreadsheets and anything else
 * that does not read Parquet: the columns of {@link ExportSchema} preceded by {@code kernel} and
 * {@code backend} (which Parquet keeps in its directory names), times in ns, unknown times empty
 * (CSV) or null (JSON). Written with Jackson's streaming generators, one row at a time.
 */
public final class TextExport {
    /** The text formats. */
    public enum Format {
        CSV, JSONL;

        /** The file name extension: csv, jsonl. */
        public String extension() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** The columns, in order. */
    public static final List<String> COLUMNS = columns();

    private static final CsvMapper CSV = new CsvMapper();
    private static final JsonFactory JSON = new JsonFactory();

    private TextExport() {
    }

    private static List<String> columns() {
        List<String> c = new ArrayList<>(ExportSchema.PARTITIONS);
        c.addAll(List.of(ExportRow.FIELDS));
        return List.copyOf(c);
    }

    /**
     * Writes each trace to {@code dir/NAME.csv} (or {@code .jsonl}), NAME the trace's file name
     * without {@code .arrow}, replacing an earlier export only once complete.
     *
     * @throws IOException naming the trace that failed; traces exported before it stay
     */
    public static List<ExportedTrace> export(List<Path> traces, Path dir, Format format, ExportListener listener) throws IOException {
        Set<String> names = new HashSet<>();
        for (Path t : traces) {
            if (!names.add(name(t, format))) {
                throw new IOException("two traces would both be " + dir.resolve(name(t, format))
                        + ": export them into different directories");
            }
        }
        ExportFiles.prepareDirectory(dir);
        List<ExportedTrace> out = new ArrayList<>();
        for (Path t : traces) {
            Path target = dir.resolve(name(t, format));
            Path partial = OutputFile.partial(target);
            long rows;
            String note;
            try (Writer o = new BufferedWriter(new OutputStreamWriter(Files.newOutputStream(partial), StandardCharsets.UTF_8), 1 << 16)) {
                Written w = write(List.of(t), o, format, listener);
                rows = w.rows;
                note = w.recoveryNote;
            } catch (IOException | RuntimeException e) {
                Files.deleteIfExists(partial);
                throw e;
            }
            OutputFile.moveIntoPlace(partial, target);
            ExportedTrace done = new ExportedTrace(t, rows, List.of(target), note);
            listener.exported(done);
            out.add(done);
        }
        return out;
    }

    private static String name(Path trace, Format format) {
        return trace.getFileName().toString().replaceFirst("\\.arrow$", "") + "." + format.extension();
    }

    /** What {@link #write} wrote. */
    public record Written(long rows, String recoveryNote) {
    }

    /**
     * Writes every row of {@code traces}, one after another, to {@code out} (CSV: one header line
     * first); {@code out} is flushed, not closed.
     */
    public static Written write(List<Path> traces, Writer out, Format format, ExportListener listener) throws IOException {
        JsonGenerator g;
        if (format == Format.CSV) {
            CsvSchema.Builder schema = CsvSchema.builder().setUseHeader(true);
            COLUMNS.forEach(schema::addColumn);
            g = CSV.getFactory().createGenerator(out);
            ((CsvGenerator) g).setSchema(schema.build());
        } else {
            g = JSON.createGenerator(out);
            g.setPrettyPrinter(new MinimalPrettyPrinter("\n"));
        }
        g.disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET);
        long rows = 0;
        List<String> notes = new ArrayList<>();
        try (g) {
            TextSink sink = new TextSink(g);
            TraceEvent e = new TraceEvent();
            for (Path t : traces) {
                try (TraceReader r = TraceReader.open(t)) {
                    ExportFiles.refuseSummary(r, t);
                    ExportRow row = new ExportRow(t.getFileName().toString(), r.header());
                    String kernel = r.header().kernel();
                    while (r.nextBatch()) {
                        int n = r.batchRows();
                        for (int i = 0; i < n; i++) {
                            r.read(i, e);
                            g.writeStartObject();
                            g.writeStringField("kernel", kernel);
                            g.writeStringField("backend", r.backend(i));
                            row.write(e, r.pageSize(i), sink);
                            g.writeEndObject();
                        }
                        rows += n;
                        listener.rows(n);
                    }
                    if (r.recovered()) {
                        notes.add(t + ": " + r.recoveryNote());
                    }
                } catch (IOException | RuntimeException ex) {
                    throw ExportFiles.failed(t, ex);
                }
            }
            if (format == Format.JSONL && rows > 0) {
                g.writeRaw('\n');
            }
        }
        out.flush();
        return new Written(rows, notes.isEmpty() ? null : String.join("; ", notes));
    }

    /** A row's columns as fields of the generator's current object. */
    private record TextSink(JsonGenerator g) implements ExportRow.Sink {
        @Override
        public void text(int field, Binary bytes, String text) {
            try {
                g.writeStringField(ExportRow.FIELDS[field], text);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        @Override
        public void int64(int field, long value) {
            try {
                g.writeNumberField(ExportRow.FIELDS[field], value);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        @Override
        public void int32(int field, int value) {
            try {
                g.writeNumberField(ExportRow.FIELDS[field], value);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        @Override
        public void time(int field, long nanos) {
            try {
                if (nanos == TraceEvent.UNKNOWN) {
                    g.writeNullField(ExportRow.FIELDS[field]);
                } else {
                    g.writeNumberField(ExportRow.FIELDS[field], nanos);
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
