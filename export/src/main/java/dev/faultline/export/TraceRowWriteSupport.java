package dev.faultline.export;

import dev.faultline.core.trace.EventKind;
import dev.faultline.core.trace.RegionInfo;
import dev.faultline.core.trace.TraceEvent;
import dev.faultline.core.trace.TraceHeader;
import dev.faultline.core.uffd.ResolveIoctl;
import org.apache.parquet.conf.ParquetConfiguration;
import org.apache.parquet.hadoop.api.WriteSupport;
import org.apache.parquet.io.api.Binary;
import org.apache.parquet.io.api.RecordConsumer;

import java.util.List;
import java.util.Map;

/**
 * Writes one trace's rows in {@link ExportSchema}'s columns: the trace's metadata and names are
 * encoded once, so a row costs only its numbers. One instance per file; rows must be of the trace
 * whose header it was made with.
 */
final class TraceRowWriteSupport extends WriteSupport<TraceEvent> {
    private static final Binary[] KINDS = names(EventKind.values());
    private static final Binary[] IOCTLS = names(ResolveIoctl.values());
    private static final String[] FIELDS = ExportSchema.SCHEMA.getFields().stream().map(org.apache.parquet.schema.Type::getName)
            .toArray(String[]::new);

    private final Binary trace;
    private final Binary host;
    private final Binary source;
    private final Binary command;
    private final Binary startedAt;
    private final Binary[] regionNames;
    private final Map<String, String> footer;
    private RecordConsumer out;
    private int pageSize;

    /**
     * @param traceName the trace file's name (the {@code trace} column)
     * @param header    its header: metadata columns, region names, and the file's key-value footer
     */
    TraceRowWriteSupport(String traceName, TraceHeader header, Map<String, String> footer) {
        this.trace = Binary.fromString(traceName);
        this.host = Binary.fromString(header.host());
        this.source = Binary.fromString(header.source());
        this.command = Binary.fromString(header.command());
        this.startedAt = Binary.fromString(header.startedAt());
        List<RegionInfo> regions = header.regions();
        this.regionNames = new Binary[regions.size()];
        for (RegionInfo r : regions) {
            regionNames[r.id()] = Binary.fromString(r.name());
        }
        this.footer = footer;
    }

    private static Binary[] names(Enum<?>[] values) {
        Binary[] b = new Binary[values.length];
        for (Enum<?> v : values) {
            b[v.ordinal()] = Binary.fromString(v.name());
        }
        return b;
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
        RecordConsumer o = out;
        o.startMessage();
        int f = 0;
        binary(o, f++, trace);
        binary(o, f++, host);
        binary(o, f++, source);
        binary(o, f++, command);
        binary(o, f++, startedAt);
        int64(o, f++, e.seq);
        binary(o, f++, KINDS[e.kind.ordinal()]);
        int32(o, f++, e.region);
        binary(o, f++, e.region >= 0 && e.region < regionNames.length ? regionNames[e.region] : Binary.EMPTY);
        int64(o, f++, e.offset);
        int64(o, f++, e.address);
        int32(o, f++, e.flags);
        int32(o, f++, e.tid);
        int32(o, f++, pageSize);
        binary(o, f++, IOCTLS[e.ioctl.ordinal()]);
        int64(o, f++, e.resolveOffset);
        int64(o, f++, e.resolveLength);
        int32(o, f++, e.result);
        int32(o, f++, e.resolveMode);
        time(o, f++, e.tFault);
        time(o, f++, e.tRead);
        time(o, f++, e.tResolveStart);
        time(o, f++, e.tResolveEnd);
        time(o, f++, e.tWake);
        int32(o, f++, Math.max(0, e.run));
        time(o, f, latency(e));
        o.endMessage();
    }

    /** The row's latency as analyze defines it, or UNKNOWN. */
    static long latency(TraceEvent e) {
        if (e.tFault != TraceEvent.UNKNOWN && e.tWake != TraceEvent.UNKNOWN) {
            return Math.max(1, e.tWake - e.tFault);
        }
        if (e.tFault != TraceEvent.UNKNOWN && e.tResolveEnd != TraceEvent.UNKNOWN) {
            return Math.max(1, e.tResolveEnd - e.tFault);
        }
        if (e.tRead != TraceEvent.UNKNOWN && e.tResolveEnd != TraceEvent.UNKNOWN) {
            return Math.max(1, e.tResolveEnd - e.tRead);
        }
        return TraceEvent.UNKNOWN;
    }

    private static void binary(RecordConsumer o, int field, Binary v) {
        String name = FIELDS[field];
        o.startField(name, field);
        o.addBinary(v);
        o.endField(name, field);
    }

    private static void int64(RecordConsumer o, int field, long v) {
        String name = FIELDS[field];
        o.startField(name, field);
        o.addLong(v);
        o.endField(name, field);
    }

    private static void int32(RecordConsumer o, int field, int v) {
        String name = FIELDS[field];
        o.startField(name, field);
        o.addInteger(v);
        o.endField(name, field);
    }

    private static void time(RecordConsumer o, int field, long t) {
        if (t != TraceEvent.UNKNOWN) {
            int64(o, field, t);
        }
    }
}
