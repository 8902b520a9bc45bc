package dev.faultline.export;

import org.apache.parquet.schema.LogicalTypeAnnotation;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName;
import org.apache.parquet.schema.Type;
import org.apache.parquet.schema.Types;

import java.util.List;

/**
 * The columns of an exported row, in file order: the trace's metadata (the same on every row of
 * one trace), the trace row's own columns under their trace-format names, and {@code latency_ns}.
 *
 * <p>The partition columns, {@code kernel} (the trace's kernel.release) and {@code backend}, are
 * in the directory names only, as Hive, Spark and DuckDB expect: a column in both places is read
 * differently by different engines. Times are CLOCK_MONOTONIC ns of the host that recorded them,
 * null where not observed; {@code run} is 0 in traces (only replay results have runs).
 */
public final class ExportSchema {
    /** The trace's file name: with {@link #HOST} and {@link #STARTED_AT}, what tells one trace from another. */
    public static final String TRACE = "trace";
    public static final String HOST = "host";
    /** What produced the trace: in-process, ebpf, bpftrace, replay. */
    public static final String SOURCE = "source";
    public static final String COMMAND = "command";
    public static final String STARTED_AT = "started_at";
    /** The region's name as the trace names it (QEMU's RAMBlock for a postcopy capture). */
    public static final String REGION_NAME = "region_name";
    /**
     * The fault's latency as {@code faultline analyze} defines it, per row: {@code t_wake - t_fault}
     * where both are known, else {@code t_resolve_end - t_fault}, else {@code t_resolve_end - t_read}.
     */
    public static final String LATENCY_NS = "latency_ns";

    /** The Hive-style partition columns, outermost first. */
    public static final List<String> PARTITIONS = List.of("kernel", "backend");

    /** The Parquet schema of every exported file. */
    public static final MessageType SCHEMA = schema();

    private ExportSchema() {
    }

    private static MessageType schema() {
        return Types.buildMessage()
                .addField(text(TRACE)).addField(text(HOST)).addField(text(SOURCE)).addField(text(COMMAND))
                .addField(text(STARTED_AT))
                .addField(int64("seq")).addField(text("kind")).addField(int32("region")).addField(text(REGION_NAME))
                .addField(int64("offset")).addField(int64("address")).addField(int32("flags")).addField(int32("tid"))
                .addField(int32("page_size")).addField(text("ioctl")).addField(int64("resolve_offset"))
                .addField(int64("resolve_length")).addField(int32("result")).addField(int32("resolve_mode"))
                .addField(time("t_fault")).addField(time("t_read")).addField(time("t_resolve_start"))
                .addField(time("t_resolve_end")).addField(time("t_wake")).addField(int32("run"))
                .addField(time(LATENCY_NS))
                .named("faultline_row");
    }

    private static Type text(String name) {
        return Types.required(PrimitiveTypeName.BINARY).as(LogicalTypeAnnotation.stringType()).named(name);
    }

    private static Type int64(String name) {
        return Types.required(PrimitiveTypeName.INT64).named(name);
    }

    private static Type int32(String name) {
        return Types.required(PrimitiveTypeName.INT32).named(name);
    }

    private static Type time(String name) {
        return Types.optional(PrimitiveTypeName.INT64).named(name);
    }
}
