package dev.faultline.core.trace;

import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.IntVector;
import org.apache.arrow.vector.TinyIntVector;
import org.apache.arrow.vector.VarBinaryVector;
import org.apache.arrow.vector.VectorSchemaRoot;

/**
 * The typed vectors of one trace batch, bound by column name from a {@link VectorSchemaRoot}, so
 * that {@link TraceWriter} and {@link TraceReader} address columns as fields, not by lookup per row.
 *
 * <p>Binding checks that every v1 column is present with its type; {@link #run} is null when the
 * file has no run column, {@link #resolveMode} when it was written before that column, the
 * summary columns in any file that is not a summary. The vectors belong to the root: they are
 * valid as long as it is open.
 */
final class TraceColumns {
    final BigIntVector seq;
    final TinyIntVector kind;
    final IntVector region;
    final BigIntVector offset;
    final BigIntVector address;
    final IntVector flags;
    final IntVector tid;
    final TinyIntVector backend;
    final IntVector pageSize;
    final TinyIntVector ioctl;
    final BigIntVector resolveOffset;
    final BigIntVector resolveLength;
    final IntVector result;
    final IntVector resolveMode;
    final BigIntVector tFault;
    final BigIntVector tRead;
    final BigIntVector tResolveStart;
    final BigIntVector tResolveEnd;
    final BigIntVector tWake;
    final IntVector run;
    // summary files only (null otherwise)
    final BigIntVector count;
    final BigIntVector countTimed;
    final BigIntVector totalNanos;
    final BigIntVector totalFaultNanos;
    final VarBinaryVector histLatency;
    final VarBinaryVector histQueue;
    final VarBinaryVector histService;
    final VarBinaryVector histEndToEnd; // null in summary files written before it too
    final VarBinaryVector histWake;

    /**
     * @param name the file's name, for the refusal message
     * @throws TraceFormatException if a column is missing or has another type
     */
    TraceColumns(VectorSchemaRoot root, String name) throws TraceFormatException {
        seq = column(root, name, TraceSchema.SEQ, BigIntVector.class);
        kind = column(root, name, TraceSchema.KIND, TinyIntVector.class);
        region = column(root, name, TraceSchema.REGION, IntVector.class);
        offset = column(root, name, TraceSchema.OFFSET, BigIntVector.class);
        address = column(root, name, TraceSchema.ADDRESS, BigIntVector.class);
        flags = column(root, name, TraceSchema.FLAGS, IntVector.class);
        tid = column(root, name, TraceSchema.TID, IntVector.class);
        backend = column(root, name, TraceSchema.BACKEND, TinyIntVector.class);
        pageSize = column(root, name, TraceSchema.PAGE_SIZE, IntVector.class);
        ioctl = column(root, name, TraceSchema.IOCTL, TinyIntVector.class);
        resolveOffset = column(root, name, TraceSchema.RESOLVE_OFFSET, BigIntVector.class);
        resolveLength = column(root, name, TraceSchema.RESOLVE_LENGTH, BigIntVector.class);
        result = column(root, name, TraceSchema.RESULT, IntVector.class);
        resolveMode = root.getVector(TraceSchema.RESOLVE_MODE) instanceof IntVector v ? v : null;
        tFault = column(root, name, TraceSchema.T_FAULT, BigIntVector.class);
        tRead = column(root, name, TraceSchema.T_READ, BigIntVector.class);
        tResolveStart = column(root, name, TraceSchema.T_RESOLVE_START, BigIntVector.class);
        tResolveEnd = column(root, name, TraceSchema.T_RESOLVE_END, BigIntVector.class);
        tWake = column(root, name, TraceSchema.T_WAKE, BigIntVector.class);
        run = root.getVector(TraceSchema.RUN) instanceof IntVector r ? r : null;
        count = root.getVector(TraceSchema.COUNT) instanceof BigIntVector v1 ? v1 : null;
        countTimed = root.getVector(TraceSchema.COUNT_TIMED) instanceof BigIntVector v2 ? v2 : null;
        totalNanos = root.getVector(TraceSchema.TOTAL_NS) instanceof BigIntVector v3 ? v3 : null;
        totalFaultNanos = root.getVector(TraceSchema.TOTAL_FAULT_NS) instanceof BigIntVector v4 ? v4 : null;
        histLatency = root.getVector(TraceSchema.HIST_LATENCY) instanceof VarBinaryVector b1 ? b1 : null;
        histQueue = root.getVector(TraceSchema.HIST_QUEUE) instanceof VarBinaryVector b2 ? b2 : null;
        histService = root.getVector(TraceSchema.HIST_SERVICE) instanceof VarBinaryVector b3 ? b3 : null;
        histEndToEnd = root.getVector(TraceSchema.HIST_END_TO_END) instanceof VarBinaryVector b4 ? b4 : null;
        histWake = root.getVector(TraceSchema.HIST_WAKE) instanceof VarBinaryVector b5 ? b5 : null;
    }

    private static <T extends FieldVector> T column(VectorSchemaRoot root, String name, String column, Class<T> type)
            throws TraceFormatException {
        FieldVector v = root.getVector(column);
        if (v == null) {
            throw new TraceFormatException(name + " is not a trace/1 file: it has no '" + column + "' column");
        }
        if (!type.isInstance(v)) {
            throw new TraceFormatException(name + " is not a trace/1 file: column '" + column + "' is "
                    + v.getField().getType() + ", expected " + type.getSimpleName());
        }
        return type.cast(v);
    }
}
