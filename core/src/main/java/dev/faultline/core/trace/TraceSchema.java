package dev.faultline.core.trace;

import dev.faultline.core.region.Backend;
import dev.faultline.core.uffd.ResolveIoctl;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.dictionary.Dictionary;
import org.apache.arrow.vector.dictionary.DictionaryProvider;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.DictionaryEncoding;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.apache.arrow.vector.types.pojo.Schema;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;

/**
 * The Arrow schema of trace format v1 (docs/design.md §3): column names, types and the three
 * dictionary-encoded columns with their fixed vocabularies.
 *
 * <p>The dictionaries never change within a file: {@code kind} holds the {@link EventKind} names,
 * {@code ioctl} the {@link ResolveIoctl} names, {@code backend} the trace backend names, each in
 * enum order, so a dictionary index is the enum's ordinal. Results of a replay add an int32
 * {@code run} column; readers accept any further columns and ignore them, and read the
 * {@code resolve_mode} column as 0 in files written before it. Summary files (a passive capture's
 * {@code --detail summary}) add the summary columns, null on event rows.
 */
public final class TraceSchema {
    public static final String SEQ = "seq";
    public static final String KIND = "kind";
    public static final String REGION = "region";
    public static final String OFFSET = "offset";
    public static final String ADDRESS = "address";
    public static final String FLAGS = "flags";
    public static final String TID = "tid";
    public static final String BACKEND = "backend";
    public static final String PAGE_SIZE = "page_size";
    public static final String IOCTL = "ioctl";
    public static final String RESOLVE_OFFSET = "resolve_offset";
    public static final String RESOLVE_LENGTH = "resolve_length";
    public static final String RESULT = "result";
    /** The resolving ioctl's mode bits (UFFDIO_COPY_MODE_DONTWAKE …); files before it lack the column (read as 0). */
    public static final String RESOLVE_MODE = "resolve_mode";
    public static final String T_FAULT = "t_fault";
    public static final String T_READ = "t_read";
    public static final String T_RESOLVE_START = "t_resolve_start";
    public static final String T_RESOLVE_END = "t_resolve_end";
    public static final String T_WAKE = "t_wake";
    public static final String RUN = "run";
    /** Summary files: events a summary row stands for (faults, or ioctls). */
    public static final String COUNT = "count";
    /** Summary files: of {@link #COUNT}, the faults whose entry (page_fault_user) was seen. */
    public static final String COUNT_TIMED = "count_timed";
    /** Summary files, THREAD_BLOCKED: nanoseconds from each fault's read to its resolving ioctl's exit, summed. */
    public static final String TOTAL_NS = "total_ns";
    /** Summary files, THREAD_BLOCKED: nanoseconds from each fault's entry to its resolving ioctl's exit, summed (timed faults). */
    public static final String TOTAL_FAULT_NS = "total_fault_ns";
    /** Summary files, FAULT_HISTOGRAM: HdrHistogram (compressed encoding) of fault entry to resolve, ns. */
    public static final String HIST_LATENCY = "hist_latency";
    /** Summary files, FAULT_HISTOGRAM: HdrHistogram of fault entry to read (queue), ns. */
    public static final String HIST_QUEUE = "hist_queue";
    /** Summary files, FAULT_HISTOGRAM: HdrHistogram of read to resolve (service), ns. */
    public static final String HIST_SERVICE = "hist_service";
    /**
     * Summary files, FAULT_HISTOGRAM: HdrHistogram of fault entry to the faulting thread running
     * again ({@code t_wake - t_fault}), ns; only where the rows summed had it (a fleet summary of
     * replays). Files written before it lack the column.
     */
    public static final String HIST_END_TO_END = "hist_end_to_end";
    /** Summary files, FAULT_HISTOGRAM: HdrHistogram of resolve to wake ({@code t_wake - t_resolve_end}), ns; as {@link #HIST_END_TO_END}. */
    public static final String HIST_WAKE = "hist_wake";

    /** Rows per record batch at most. */
    public static final int BATCH_ROWS = 64 * 1024;

    static final long KIND_DICT_ID = 0;
    static final long BACKEND_DICT_ID = 1;
    static final long IOCTL_DICT_ID = 2;

    private static final ArrowType INT8 = new ArrowType.Int(8, true);
    private static final ArrowType INT32 = new ArrowType.Int(32, true);
    private static final ArrowType INT64 = new ArrowType.Int(64, true);
    private static final ArrowType BINARY = ArrowType.Binary.INSTANCE;

    /** The trace backend names in dictionary order. */
    static final List<String> BACKEND_NAMES = backendNames();

    private TraceSchema() {
    }

    private static List<String> backendNames() {
        LinkedHashSet<String> names = new LinkedHashSet<>();
        for (Backend b : Backend.values()) {
            names.add(b.traceName());
        }
        return List.copyOf(names);
    }

    /** The schema, with {@code metadata} and, for replay results, the run column. */
    public static Schema schema(Map<String, String> metadata, boolean withRun) {
        return schema(metadata, withRun, false);
    }

    /** The schema, with {@code metadata}, the run column for replay results, the summary columns for summary files. */
    public static Schema schema(Map<String, String> metadata, boolean withRun, boolean withSummary) {
        List<Field> f = new ArrayList<>();
        f.add(plain(SEQ, INT64, false));
        f.add(dictionary(KIND, KIND_DICT_ID));
        f.add(plain(REGION, INT32, false));
        f.add(plain(OFFSET, INT64, false));
        f.add(plain(ADDRESS, INT64, false));
        f.add(plain(FLAGS, INT32, false));
        f.add(plain(TID, INT32, false));
        f.add(dictionary(BACKEND, BACKEND_DICT_ID));
        f.add(plain(PAGE_SIZE, INT32, false));
        f.add(dictionary(IOCTL, IOCTL_DICT_ID));
        f.add(plain(RESOLVE_OFFSET, INT64, false));
        f.add(plain(RESOLVE_LENGTH, INT64, false));
        f.add(plain(RESULT, INT32, false));
        f.add(plain(RESOLVE_MODE, INT32, false));
        f.add(plain(T_FAULT, INT64, true));
        f.add(plain(T_READ, INT64, true));
        f.add(plain(T_RESOLVE_START, INT64, true));
        f.add(plain(T_RESOLVE_END, INT64, true));
        f.add(plain(T_WAKE, INT64, true));
        if (withRun) {
            f.add(plain(RUN, INT32, false));
        }
        if (withSummary) {
            f.add(plain(COUNT, INT64, true));
            f.add(plain(COUNT_TIMED, INT64, true));
            f.add(plain(TOTAL_NS, INT64, true));
            f.add(plain(TOTAL_FAULT_NS, INT64, true));
            f.add(plain(HIST_LATENCY, BINARY, true));
            f.add(plain(HIST_QUEUE, BINARY, true));
            f.add(plain(HIST_SERVICE, BINARY, true));
            f.add(plain(HIST_END_TO_END, BINARY, true));
            f.add(plain(HIST_WAKE, BINARY, true));
        }
        return new Schema(f, metadata);
    }

    private static Field plain(String name, ArrowType type, boolean nullable) {
        return new Field(name, new FieldType(nullable, type, null), null);
    }

    private static Field dictionary(String name, long id) {
        return new Field(name, new FieldType(false, INT8, new DictionaryEncoding(id, false, (ArrowType.Int) INT8)), null);
    }

    /** The three fixed dictionaries, allocated from {@code allocator}; the caller closes their vectors. */
    static DictionaryProvider.MapDictionaryProvider dictionaries(BufferAllocator allocator) {
        DictionaryProvider.MapDictionaryProvider p = new DictionaryProvider.MapDictionaryProvider();
        p.put(dictionary(allocator, KIND, KIND_DICT_ID, names(EventKind.values())));
        p.put(dictionary(allocator, BACKEND, BACKEND_DICT_ID, BACKEND_NAMES));
        p.put(dictionary(allocator, IOCTL, IOCTL_DICT_ID, names(ResolveIoctl.values())));
        return p;
    }

    private static List<String> names(Enum<?>[] values) {
        List<String> out = new ArrayList<>();
        for (Enum<?> e : values) {
            out.add(e.name());
        }
        return out;
    }

    private static Dictionary dictionary(BufferAllocator allocator, String name, long id, List<String> words) {
        VarCharVector v = new VarCharVector(name + "_dictionary", allocator);
        v.allocateNew(words.size());
        for (int i = 0; i < words.size(); i++) {
            v.setSafe(i, words.get(i).getBytes(StandardCharsets.UTF_8));
        }
        v.setValueCount(words.size());
        return new Dictionary(v, new DictionaryEncoding(id, false, (ArrowType.Int) INT8));
    }
}
