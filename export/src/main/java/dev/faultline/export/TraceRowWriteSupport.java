package dev.faultline.export;

import dev.faultline.core.trace.TraceEvent;
import org.apache.parquet.conf.ParquetConfiguration;
import org.apache.parquet.hadoop.api.WriteSupport;
import org.apache.parquet.io.api.Binary;
import org.apache.parquet.io.api.RecordConsumer;

import java.util.Map;

/**
 * Parquet's side of an export: each trace row as one record of {@link ExportSchema}, its columns
 * from {@link ExportRow}. One instance per file; rows must be of the trace the {@link ExportRow}
 * was made for.
 */
final class TraceRowWriteSupport extends WriteSupport<TraceEvent> implements ExportRow.Sink {
    private final ExportRow row;
    private final Map<String, String> footer;
    private RecordConsumer out;
    private int pageSize;

    /** @param footer the file's key-value metadata */
    TraceRowWriteSupport(ExportRow row, Map<String, String> footer) {
        this.row = row;
        this.footer = footer;
    }

    @Override
    public WriteContext init(ParquetConfiguration configuration) {
        return new WriteContext(ExportSchema.SCHEMA, footer);
    }

    @Override
    @SuppressWarnings("deprecation")
    public WriteContext init(org.apache.hadoop.conf.Configuration configuration) {
        return new WriteContext(ExportSchema.SCHEMA, footer); // not called: the writer is built with a plain configuration
    }

    @Override
    public void prepareForWrite(RecordConsumer recordConsumer) {
        this.out = recordConsumer;
    }

    /** The page size of the next row (the trace's column, which {@link TraceEvent} does not hold). */
    void pageSize(int bytes) {
        this.pageSize = bytes;
    }

    @Override
    public void write(TraceEvent e) {
        out.startMessage();
        row.write(e, pageSize, this);
        out.endMessage();
    }

    @Override
    public void text(int field, Binary bytes, String text) {
        String name = ExportRow.FIELDS[field];
        out.startField(name, field);
        out.addBinary(bytes);
        out.endField(name, field);
    }

    @Override
    public void int64(int field, long value) {
        String name = ExportRow.FIELDS[field];
        out.startField(name, field);
        out.addLong(value);
        out.endField(name, field);
    }

    @Override
    public void int32(int field, int value) {
        String name = ExportRow.FIELDS[field];
        out.startField(name, field);
        out.addInteger(value);
        out.endField(name, field);
    }

    @Override
    public void time(int field, long nanos) {
        if (nanos != TraceEvent.UNKNOWN) {
            int64(field, nanos);
        }
    }
}
