package dev.faultline.core.trace;

import dev.faultline.core.uffd.ResolveIoctl;
import org.apache.arrow.compression.CommonsCompressionFactory;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.dictionary.Dictionary;
import org.apache.arrow.vector.ipc.ArrowFileReader;
import org.apache.arrow.vector.ipc.ArrowReader;
import org.apache.arrow.vector.ipc.ArrowStreamReader;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;

/**
 * Reads a trace (format v1) batch by batch, in bounded memory: one record batch is held at a time.
 *
 * <p>{@link #open} refuses, with one line naming the file and the reason, anything that is not a
 * trace: not Arrow, another Arrow schema, a newer format version, missing columns. A file whose
 * writer died before the footer is read as the stream it holds: every complete batch is returned,
 * {@link #recovered()} is true and {@link #recoveryNote()} says what was found.
 *
 * <p>Use: {@code while (r.nextBatch()) for (int i = 0; i < r.batchRows(); i++) r.read(i, event);}
 * — {@link #read} allocates nothing. Not thread-safe.
 */
public final class TraceReader implements AutoCloseable {
    private static final byte[] MAGIC = "ARROW1".getBytes(StandardCharsets.US_ASCII);

    private final String name;
    private final BufferAllocator allocator;
    private final FileChannel channel;
    private final ArrowReader reader;
    private final VectorSchemaRoot root;
    private final TraceHeader header;
    private final Map<String, String> footer;
    private final boolean recovered;
    private String recoveryNote;
    private boolean truncated;
    private int batches;
    private long rowsRead;
    private final int[] checksums; // per batch, from the footer; null when the file has none (older, or recovered)
    private ByteBuffer checked = ByteBuffer.allocate(0);

    private final TraceColumns c;

    private EventKind[] kinds;
    private ResolveIoctl[] ioctls;
    private String[] backends;

    private TraceReader(String name, BufferAllocator allocator, FileChannel channel, ArrowReader reader,
                        boolean recovered) throws IOException {
        this.name = name;
        this.allocator = allocator;
        this.channel = channel;
        this.reader = reader;
        this.recovered = recovered;
        try {
            try {
                this.root = reader.getVectorSchemaRoot();
            } catch (IOException | RuntimeException e) {
                throw new TraceFormatException(name + " is damaged before its first batch (unreadable schema: "
                        + oneLine(e) + ")", e);
            }
            this.footer = reader instanceof ArrowFileReader f && f.getMetaData() != null ? Map.copyOf(f.getMetaData()) : Map.of();
            TraceHeader h = TraceHeader.fromMetadata(name, root.getSchema().getCustomMetadata());
            String later = footer.get(TraceHeader.KEY_REGIONS); // a capture that found regions after it began
            this.header = later == null ? h : h.withRegions(name, TraceHeader.parseRegions(name, later));
            c = new TraceColumns(root, name);
            this.checksums = checksums(name, footer, reader);
        } catch (IOException | RuntimeException e) {
            closeQuietly(reader, e); // its buffers go back before the allocator is closed, so the real error is the one told
            throw e;
        }
    }

    /** The footer's per-batch checksums, or null when the file has none; a list that does not fit the batches is damage. */
    private static int[] checksums(String name, Map<String, String> footer, ArrowReader reader) throws IOException {
        String list = footer.get(TraceWriter.FOOTER_BATCH_CRC32C);
        if (list == null || !(reader instanceof ArrowFileReader f)) {
            return null;
        }
        String[] hex = list.isEmpty() ? new String[0] : list.split(",");
        if (hex.length != f.getRecordBlocks().size()) {
            throw new TraceFormatException(name + "'s footer is damaged: it lists " + hex.length + " batch checksums for "
                    + f.getRecordBlocks().size() + " batches");
        }
        int[] out = new int[hex.length];
        try {
            for (int i = 0; i < hex.length; i++) {
                out[i] = Integer.parseUnsignedInt(hex[i], 16);
            }
        } catch (NumberFormatException e) {
            throw new TraceFormatException(name + "'s footer is damaged: a batch checksum is '" + e.getMessage() + "'");
        }
        return out;
    }

    /** Checks batch {@code index} (0-based) against its checksum before it is decoded. */
    private void verify(ArrowFileReader f, int index) throws IOException {
        if (checksums == null || index >= checksums.length) {
            return;
        }
        checked = TraceChecksums.read(channel, f.getRecordBlocks().get(index), checked);
        int crc = TraceChecksums.crc32c(checked);
        if (crc != checksums[index]) {
            throw new TraceFormatException(name + ": batch " + (index + 1) + " of " + checksums.length + " is damaged: its CRC32C is "
                    + Integer.toHexString(crc) + ", the footer says " + Integer.toHexString(checksums[index])
                    + " (the file changed after it was written)");
        }
    }

    private static void closeQuietly(AutoCloseable c, Throwable cause) {
        try {
            c.close();
        } catch (Exception e) {
            cause.addSuppressed(e);
        }
    }

    /**
     * Opens a trace.
     *
     * @throws TraceFormatException if the file is not a readable trace (one-line message)
     * @throws IOException if it cannot be read at all (the message names the file)
     */
    public static TraceReader open(Path path) throws IOException {
        String name = path.toString();
        if (Files.isDirectory(path)) {
            throw new TraceFormatException(name + " is a directory, not a trace");
        }
        FileChannel channel;
        try {
            channel = FileChannel.open(path, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            throw new NoSuchFileException(name, null, "no such file");
        }
        BufferAllocator allocator = new RootAllocator();
        try {
            long size = channel.size();
            if (size < 8 || !hasMagic(channel, 0)) {
                throw new TraceFormatException(name + " is not an Arrow IPC file" + (size < 8
                        ? " (" + size + " bytes)" : " (no ARROW1 magic at its start)"));
            }
            Exception footerDamage = null;
            if (size >= 18 && hasMagic(channel, size - MAGIC.length)) {
                try {
                    ArrowFileReader r = new ArrowFileReader(channel, allocator, CommonsCompressionFactory.INSTANCE);
                    return new TraceReader(name, allocator, channel, r, false);
                } catch (IOException | RuntimeException e) {
                    // the footer (or what it points to) is damaged: read what the stream after the magic holds
                    footerDamage = e;
                    channel = FileChannel.open(path, StandardOpenOption.READ); // the file reader closed the first one
                }
            }
            channel.position(8);
            ArrowStreamReader s = new ArrowStreamReader(channel, allocator, CommonsCompressionFactory.INSTANCE);
            TraceReader t;
            try {
                t = new TraceReader(name, allocator, channel, s, true);
            } catch (IOException | RuntimeException e) {
                if (footerDamage instanceof TraceFormatException tf && tf.getMessage().contains("footer")) {
                    throw tf; // the footer's own account of what is wrong says more than the stream's
                }
                throw e;
            }
            t.recoveryNote = footerDamage == null ? "the writer did not finish " + name + " (no footer): reading every complete batch"
                    : name + "'s footer is damaged (" + oneLine(footerDamage) + "): reading every complete batch in order";
            return t;
        } catch (IOException | RuntimeException e) {
            closeQuietly(channel, e);
            closeQuietly(allocator, e); // reports leaks as suppressed, never in place of what went wrong
            if (e instanceof IOException io) {
                throw io;
            }
            throw new TraceFormatException(name + " is not a readable trace: " + oneLine(e), e);
        }
    }

    private static boolean hasMagic(FileChannel ch, long at) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(MAGIC.length);
        while (b.hasRemaining()) {
            if (ch.read(b, at + b.position()) < 0) {
                return false;
            }
        }
        return java.util.Arrays.equals(b.array(), MAGIC);
    }

    private static String oneLine(Throwable e) {
        String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        return m.lines().findFirst().orElse(m);
    }

    /** The schema metadata, with the footer's regions where the footer lists them (regions found during a capture). */
    public TraceHeader header() {
        return header;
    }

    /** The footer metadata (empty when recovered: the footer was never written). */
    public Map<String, String> footer() {
        return footer;
    }

    /** Whether the file had no footer and was read as a stream. */
    public boolean recovered() {
        return recovered;
    }

    /** What recovery found (null if the file was complete); after the last batch it says how many were read. */
    public String recoveryNote() {
        if (!recovered) {
            return null;
        }
        return recoveryNote + "; " + batches + " complete batches, " + rowsRead + " rows"
                + (truncated ? ", the rest was cut off" : "");
    }

    /** Whether this file has a replay {@code run} column. */
    public boolean hasRunColumn() {
        return c.run != null;
    }

    /**
     * Loads the next batch.
     *
     * @return false at the end (for a recovered file: at the first incomplete batch)
     * @throws TraceFormatException if a batch of a complete file is damaged
     */
    public boolean nextBatch() throws IOException {
        boolean loaded;
        try {
            if (!recovered && reader instanceof ArrowFileReader f) {
                verify(f, batches);
            }
            loaded = reader.loadNextBatch();
        } catch (IOException | RuntimeException e) {
            if (recovered) {
                truncated = true;
                return false;
            }
            if (e instanceof TraceFormatException t) {
                throw t;
            }
            throw new TraceFormatException(name + ": batch " + (batches + 1) + " is damaged: " + oneLine(e), e);
        }
        if (!loaded) {
            return false;
        }
        afterLoad();
        return true;
    }

    /**
     * The number of batches of a complete file (its footer lists them), or -1 for a recovered
     * file, which can only be read in order with {@link #nextBatch}.
     */
    public int batchCount() throws IOException {
        return !recovered && reader instanceof ArrowFileReader f ? f.getRecordBlocks().size() : -1;
    }

    /**
     * Loads batch {@code index} of a complete file (0 ≤ index &lt; {@link #batchCount()}): lets
     * several readers of one file decode different batches at once.
     *
     * @throws TraceFormatException if the batch is damaged
     * @throws IllegalStateException for a recovered file
     */
    public void loadBatch(int index) throws IOException {
        if (!(reader instanceof ArrowFileReader f) || recovered) {
            throw new IllegalStateException(name + " was recovered: its batches can only be read in order");
        }
        try {
            verify(f, index);
            f.loadRecordBatch(f.getRecordBlocks().get(index));
        } catch (TraceFormatException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            throw new TraceFormatException(name + ": batch " + (index + 1) + " is damaged: " + oneLine(e), e);
        }
        afterLoad();
    }

    private void afterLoad() throws IOException {
        if (kinds == null) {
            kinds = decode(TraceSchema.KIND_DICT_ID, EventKind.values(), EventKind.class);
            ioctls = decode(TraceSchema.IOCTL_DICT_ID, ResolveIoctl.values(), ResolveIoctl.class);
            backends = dictionaryWords(TraceSchema.BACKEND_DICT_ID, TraceSchema.BACKEND_NAMES.toArray(String[]::new));
        }
        batches++;
        rowsRead += root.getRowCount();
    }

    private String[] dictionaryWords(long id, String[] fallback) throws IOException {
        Dictionary d = reader.getDictionaryVectors().get(id);
        if (d == null || !(d.getVector() instanceof VarCharVector v)) {
            return fallback;
        }
        String[] words = new String[v.getValueCount()];
        for (int i = 0; i < words.length; i++) {
            words[i] = new String(v.get(i), StandardCharsets.UTF_8);
        }
        return words;
    }

    private <E extends Enum<E>> E[] decode(long id, E[] fallback, Class<E> type) throws IOException {
        String[] words = dictionaryWords(id, null);
        if (words == null) {
            return fallback;
        }
        E[] out = java.util.Arrays.copyOf(fallback, words.length);
        for (int i = 0; i < words.length; i++) {
            try {
                out[i] = Enum.valueOf(type, words[i]);
            } catch (IllegalArgumentException e) {
                throw new TraceFormatException(name + " has an unknown " + type.getSimpleName() + " '" + words[i] + "'");
            }
        }
        return out;
    }

    /** Rows in the current batch. */
    public int batchRows() {
        return root.getRowCount();
    }

    /** Rows loaded so far, the current batch included. */
    public long rowsRead() {
        return rowsRead;
    }

    /** The current batch's vectors, for column-wise readers. Valid until the next {@link #nextBatch}. */
    public VectorSchemaRoot batch() {
        return root;
    }

    /** Decodes row {@code i} of the current batch into {@code e}. */
    public void read(int i, TraceEvent e) {
        e.seq = c.seq.get(i);
        e.kind = kinds[c.kind.get(i)];
        e.region = c.region.get(i);
        e.offset = c.offset.get(i);
        e.address = c.address.get(i);
        e.flags = c.flags.get(i);
        e.tid = c.tid.get(i);
        e.ioctl = ioctls[c.ioctl.get(i)];
        e.resolveOffset = c.resolveOffset.get(i);
        e.resolveLength = c.resolveLength.get(i);
        e.result = c.result.get(i);
        e.resolveMode = c.resolveMode == null ? 0 : c.resolveMode.get(i);
        e.tFault = time(c.tFault, i);
        e.tRead = time(c.tRead, i);
        e.tResolveStart = time(c.tResolveStart, i);
        e.tResolveEnd = time(c.tResolveEnd, i);
        e.tWake = time(c.tWake, i);
        e.run = c.run == null ? -1 : c.run.get(i);
        summary(i, e);
    }

    /** Whether this file has the summary columns (a summary capture). */
    public boolean hasSummaryColumns() {
        return c.count != null;
    }

    /** Fills {@code e}'s summary fields from row {@code i} (zero and null where the file or row has none). */
    private void summary(int i, TraceEvent e) {
        if (c.count == null || c.count.isNull(i)) {
            e.count = 0;
            e.countTimed = 0;
            e.totalNanos = 0;
            e.totalFaultNanos = 0;
            e.histLatency = null;
            e.histQueue = null;
            e.histService = null;
            e.histEndToEnd = null;
            e.histWake = null;
            return;
        }
        e.count = c.count.get(i);
        e.countTimed = c.countTimed.isNull(i) ? 0 : c.countTimed.get(i);
        e.totalNanos = c.totalNanos.isNull(i) ? 0 : c.totalNanos.get(i);
        e.totalFaultNanos = c.totalFaultNanos.isNull(i) ? 0 : c.totalFaultNanos.get(i);
        e.histLatency = c.histLatency.isNull(i) ? null : c.histLatency.get(i);
        e.histQueue = c.histQueue.isNull(i) ? null : c.histQueue.get(i);
        e.histService = c.histService.isNull(i) ? null : c.histService.get(i);
        e.histEndToEnd = c.histEndToEnd == null || c.histEndToEnd.isNull(i) ? null : c.histEndToEnd.get(i);
        e.histWake = c.histWake == null || c.histWake.isNull(i) ? null : c.histWake.get(i);
    }

    /**
     * Decodes only what an analysis of faults needs from row {@code i}: kind, region, offset, tid,
     * ioctl, run and the times t_fault, t_read, t_resolve_end, t_wake (and on summary rows their
     * summary fields). The other fields of {@code e} keep whatever they held. About a third faster
     * than {@link #read}.
     */
    public void readForAnalysis(int i, TraceEvent e) {
        e.kind = kinds[c.kind.get(i)];
        e.region = c.region.get(i);
        e.offset = c.offset.get(i);
        e.tid = c.tid.get(i);
        e.ioctl = ioctls[c.ioctl.get(i)];
        e.tFault = time(c.tFault, i);
        e.tRead = time(c.tRead, i);
        e.tResolveEnd = time(c.tResolveEnd, i);
        e.tWake = time(c.tWake, i);
        e.run = c.run == null ? -1 : c.run.get(i);
        if (e.kind.isSummary()) {
            summary(i, e);
        }
    }

    /** The backend column of row {@code i} (trace name: anon, shmem, hugetlb, guest_memfd). */
    public String backend(int i) {
        return backends[c.backend.get(i)];
    }

    /** The page_size column of row {@code i}. */
    public int pageSize(int i) {
        return c.pageSize.get(i);
    }

    private static long time(BigIntVector v, int i) {
        return v.isNull(i) ? TraceEvent.UNKNOWN : v.get(i);
    }

    @Override
    public void close() throws IOException {
        try {
            reader.close();
        } finally {
            channel.close();
            allocator.close();
        }
    }
}
