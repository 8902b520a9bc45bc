package dev.faultline.export;

import dev.faultline.core.trace.EventKind;
import dev.faultline.core.trace.RegionInfo;
import dev.faultline.core.trace.FaultTimes;
import dev.faultline.core.trace.TraceEvent;
import dev.faultline.core.trace.TraceHeader;
import dev.faultline.core.uffd.ResolveIoctl;
import org.apache.parquet.io.api.Binary;

import java.util.List;

/**
 * One trace's rows as {@link ExportSchema}'s columns, in order, handed to a {@link Sink}: Parquet's
 * record consumer or a CSV / JSON Lines generator. The trace's metadata and names are encoded once
 * per trace, as Parquet {@link Binary} and as {@link String}, so a row costs only its numbers.
 */
final class ExportRow {
    /** Where a row's columns go; {@code field} is the column's index in {@link ExportSchema#SCHEMA}. */
    interface Sink {
        void text(int field, Binary bytes, String text);

        void int64(int field, long value);

        void int32(int field, int value);

        /** A nullable time: {@link TraceEvent#UNKNOWN} is null. */
        void time(int field, long nanos);
    }

    /** The column names, in order. */
    static final String[] FIELDS = ExportSchema.SCHEMA.getFields().stream().map(org.apache.parquet.schema.Type::getName)
            .toArray(String[]::new);

    private static final Binary[] KIND_BYTES = bytes(EventKind.values());
    private static final Binary[] IOCTL_BYTES = bytes(ResolveIoctl.values());

    private final Binary[] meta = new Binary[5];
    private final String[] metaText;
    private final Binary[] regionBytes;
    private final String[] regionNames;

    /** The rows of the trace named {@code traceName} with header {@code h}. */
    ExportRow(String traceName, TraceHeader h) {
        metaText = new String[] {traceName, h.host(), h.source(), h.command(), h.startedAt()};
        for (int i = 0; i < meta.length; i++) {
            meta[i] = text(metaText[i]);
        }
        List<RegionInfo> regions = h.regions();
        regionBytes = new Binary[regions.size()];
        regionNames = new String[regions.size()];
        for (RegionInfo r : regions) {
            regionNames[r.id()] = r.name();
            regionBytes[r.id()] = text(r.name());
        }
    }

    private static Binary[] bytes(Enum<?>[] values) {
        Binary[] b = new Binary[values.length];
        for (Enum<?> v : values) {
            b[v.ordinal()] = text(v.name());
        }
        return b;
    }

    /**
     * {@code s} as an immutable byte-array Binary. Not {@link Binary#fromString}: that one reads
     * through a shared ByteBuffer's position, and the kind and ioctl names are shared by the
     * exporting threads (a race that broke a column's statistics once in 2,000 traces).
     */
    private static Binary text(String s) {
        return Binary.fromConstantByteArray(s.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    /** Hands row {@code e}, of pages of {@code pageSize} bytes, to {@code out}, column by column. */
    void write(TraceEvent e, int pageSize, Sink out) {
        int f = 0;
        for (int i = 0; i < meta.length; i++) {
            out.text(f++, meta[i], metaText[i]);
        }
        out.int64(f++, e.seq);
        out.text(f++, KIND_BYTES[e.kind.ordinal()], e.kind.name());
        out.int32(f++, e.region);
        boolean known = e.region >= 0 && e.region < regionNames.length;
        out.text(f++, known ? regionBytes[e.region] : Binary.EMPTY, known ? regionNames[e.region] : "");
        out.int64(f++, e.offset);
        out.int64(f++, e.address);
        out.int32(f++, e.flags);
        out.int32(f++, e.tid);
        out.int32(f++, pageSize);
        out.text(f++, IOCTL_BYTES[e.ioctl.ordinal()], e.ioctl.name());
        out.int64(f++, e.resolveOffset);
        out.int64(f++, e.resolveLength);
        out.int32(f++, e.result);
        out.int32(f++, e.resolveMode);
        out.time(f++, e.tFault);
        out.time(f++, e.tRead);
        out.time(f++, e.tResolveStart);
        out.time(f++, e.tResolveEnd);
        out.time(f++, e.tWake);
        out.int32(f++, Math.max(0, e.run));
        out.time(f, latency(e));
    }

    /** The row's latency as analyze defines it, or UNKNOWN. */
    static long latency(TraceEvent e) {
        return FaultTimes.latency(e.tFault, e.tRead, e.tResolveEnd, e.tWake);
    }
}
