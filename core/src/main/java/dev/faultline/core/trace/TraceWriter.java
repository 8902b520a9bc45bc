package dev.faultline.core.trace;

import org.apache.arrow.compression.CommonsCompressionFactory;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.compression.CompressionUtil;
import org.apache.arrow.vector.compression.NoCompressionCodec;
import org.apache.arrow.vector.dictionary.DictionaryProvider;
import org.apache.arrow.vector.ipc.ArrowFileWriter;
import org.apache.arrow.vector.ipc.message.ArrowBlock;
import org.apache.arrow.vector.ipc.message.IpcOption;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Writes a trace (format v1) as an Arrow IPC file, batch by batch, in bounded memory.
 *
 * <p>Rows are {@link #append appended} into one batch of at most {@link TraceSchema#BATCH_ROWS}
 * rows held off-heap; a full batch, or any {@link #flush}, goes to the file at once (straight to
 * the kernel: nothing is buffered in user space), so a writer that dies leaves a file from which
 * {@link TraceReader} recovers every flushed batch. {@link #close} writes the footer with the
 * footer metadata ({@code events} and whatever was {@link #putFooter put}).
 *
 * <p>Not thread-safe: one thread appends. {@link #append} allocates nothing.
 */
public final class TraceWriter implements RowSink, AutoCloseable {
    /**
     * ZSTD level 1: the recorder compresses while a handler runs beside it, and level 1 took about
     * half of level 3's CPU for files a few percent larger (measured with faultline record).
     */
    static final int ZSTD_LEVEL = 1;
    /** Footer key: the number of rows in the file. */
    public static final String FOOTER_EVENTS = "events";
    /**
     * Footer key: each record batch's CRC32C (of its message and body as written), in hex, in batch
     * order, comma-separated: Arrow IPC has no checksum of its own, and a flipped bit in a batch body
     * otherwise reads as data.
     */
    public static final String FOOTER_BATCH_CRC32C = "batch_crc32c";

    private final Path path;
    private final BufferAllocator allocator;
    private final DictionaryProvider.MapDictionaryProvider dictionaries;
    private final VectorSchemaRoot root;
    private final FileChannel channel;
    private final ArrowFileWriter writer;
    private final Map<String, String> footer = new LinkedHashMap<>();

    private final TraceColumns c;

    private final List<RegionInfo> regions;
    private byte[] regionBackend;
    private int[] regionPageSize;
    private int rows;
    private long total;
    private boolean closed;
    private final StringBuilder checksums = new StringBuilder();
    private ByteBuffer readBack = ByteBuffer.allocate(0);

    private TraceWriter(Path path, TraceHeader header, Compression compression, boolean withRun, boolean withSummary)
            throws IOException {
        this.path = path;
        regions = new ArrayList<>(header.regions());
        regionBackend = new byte[regions.size()];
        regionPageSize = new int[regions.size()];
        for (RegionInfo r : regions) {
            describe(r);
        }
        allocator = new RootAllocator();
        dictionaries = TraceSchema.dictionaries(allocator);
        root = VectorSchemaRoot.create(TraceSchema.schema(header.toMetadata(), withRun, withSummary), allocator);
        root.getFieldVectors().forEach(v -> v.setInitialCapacity(TraceSchema.BATCH_ROWS));
        root.allocateNew();
        c = new TraceColumns(root, path.toString());

        channel = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE, StandardOpenOption.READ); // READ: each batch is read back for its checksum
        writer = compression == Compression.ZSTD
                ? new ArrowFileWriter(root, dictionaries, channel, footer, IpcOption.DEFAULT,
                        CommonsCompressionFactory.INSTANCE, CompressionUtil.CodecType.ZSTD, Optional.of(ZSTD_LEVEL))
                : new ArrowFileWriter(root, dictionaries, channel, footer, IpcOption.DEFAULT,
                        NoCompressionCodec.Factory.INSTANCE, CompressionUtil.CodecType.NO_COMPRESSION);
        writer.start();
    }

    /**
     * Creates (or truncates) {@code path} and writes the schema and dictionaries.
     *
     * @param withRun whether rows carry a replay {@code run} column
     */
    public static TraceWriter create(Path path, TraceHeader header, Compression compression, boolean withRun)
            throws IOException {
        return create(path, header, compression, withRun, false);
    }

    /**
     * Creates (or truncates) {@code path} and writes the schema and dictionaries.
     *
     * @param withRun     whether rows carry a replay {@code run} column
     * @param withSummary whether the file has the summary columns (a summary capture)
     */
    public static TraceWriter create(Path path, TraceHeader header, Compression compression, boolean withRun,
                                     boolean withSummary) throws IOException {
        try {
            return new TraceWriter(path, header, compression, withRun, withSummary);
        } catch (java.nio.file.NoSuchFileException e) {
            throw new IOException("cannot create trace " + path + ": its directory " + path.toAbsolutePath().getParent()
                    + " does not exist", e);
        } catch (java.nio.file.AccessDeniedException e) {
            throw new IOException("cannot create trace " + path + ": permission denied", e);
        } catch (IOException | RuntimeException e) {
            throw new IOException("cannot create trace " + path + ": " + e.getMessage(), e);
        }
    }

    /** Creates a trace without a run column. */
    public static TraceWriter create(Path path, TraceHeader header, Compression compression) throws IOException {
        return create(path, header, compression, false);
    }

    /** The file being written. */
    @Override
    public Path path() {
        return path;
    }

    private void describe(RegionInfo r) {
        int b = TraceSchema.BACKEND_NAMES.indexOf(r.backend());
        if (b < 0) {
            throw new IllegalArgumentException("region " + r.id() + " has unknown backend '" + r.backend() + "'");
        }
        regionBackend[r.id()] = (byte) b;
        regionPageSize[r.id()] = Math.toIntExact(r.pageSize());
    }

    /**
     * Adds a region found after the file was started (a capture seeing a registration). Rows may
     * name it from now on; the full list goes into the footer's {@code regions}, which readers
     * prefer to the header's. A file cut off before its footer lacks such regions.
     *
     * @throws IllegalArgumentException if its id is not the next one
     */
    public void addRegion(RegionInfo r) {
        if (r.id() != regions.size()) {
            throw new IllegalArgumentException("region " + r.id() + " added as region " + regions.size());
        }
        regions.add(r);
        regionBackend = Arrays.copyOf(regionBackend, regions.size());
        regionPageSize = Arrays.copyOf(regionPageSize, regions.size());
        describe(r);
        footer.put(TraceHeader.KEY_REGIONS, TraceHeader.regionsJson(regions));
    }

    /**
     * Appends one row; writes the batch out when it is full.
     *
     * @throws IllegalArgumentException if the row's region is not in the header
     */
    @Override
    public void append(TraceEvent e) throws IOException {
        if (e.region < 0 || e.region >= regionBackend.length) {
            throw new IllegalArgumentException("row " + e.seq + " names region " + e.region + " but the trace has "
                    + regionBackend.length + " regions");
        }
        int i = rows;
        c.seq.set(i, e.seq);
        c.kind.set(i, (byte) e.kind.ordinal());
        c.region.set(i, e.region);
        c.offset.set(i, e.offset);
        c.address.set(i, e.address);
        c.flags.set(i, e.flags);
        c.tid.set(i, e.tid);
        c.backend.set(i, regionBackend[e.region]);
        c.pageSize.set(i, regionPageSize[e.region]);
        c.ioctl.set(i, (byte) e.ioctl.ordinal());
        c.resolveOffset.set(i, e.resolveOffset);
        c.resolveLength.set(i, e.resolveLength);
        c.result.set(i, e.result);
        c.resolveMode.set(i, e.resolveMode);
        setTime(c.tFault, i, e.tFault);
        setTime(c.tRead, i, e.tRead);
        setTime(c.tResolveStart, i, e.tResolveStart);
        setTime(c.tResolveEnd, i, e.tResolveEnd);
        setTime(c.tWake, i, e.tWake);
        if (c.run != null) {
            c.run.set(i, e.run);
        }
        if (c.count != null) {
            summary(i, e);
        }
        rows = i + 1;
        if (rows == TraceSchema.BATCH_ROWS) {
            flush();
        }
    }

    /** The summary columns: values on summary rows, nulls on event rows. */
    private void summary(int i, TraceEvent e) {
        if (!e.kind.isSummary()) {
            c.count.setNull(i);
            c.countTimed.setNull(i);
            c.totalNanos.setNull(i);
            c.totalFaultNanos.setNull(i);
            c.histLatency.setNull(i);
            c.histQueue.setNull(i);
            c.histService.setNull(i);
            c.histEndToEnd.setNull(i);
            c.histWake.setNull(i);
            return;
        }
        c.count.set(i, e.count);
        c.countTimed.set(i, e.countTimed);
        c.totalNanos.set(i, e.totalNanos);
        c.totalFaultNanos.set(i, e.totalFaultNanos);
        setBytes(c.histLatency, i, e.histLatency);
        setBytes(c.histQueue, i, e.histQueue);
        setBytes(c.histService, i, e.histService);
        setBytes(c.histEndToEnd, i, e.histEndToEnd);
        setBytes(c.histWake, i, e.histWake);
    }

    private static void setBytes(org.apache.arrow.vector.VarBinaryVector v, int i, byte[] b) {
        if (b == null) {
            v.setNull(i);
        } else {
            v.setSafe(i, b);
        }
    }

    private static void setTime(BigIntVector v, int i, long t) {
        if (t == TraceEvent.UNKNOWN) {
            v.setNull(i);
        } else {
            v.set(i, t);
        }
    }

    /** Writes the rows appended since the last flush as one batch (nothing if there are none). */
    @Override
    public void flush() throws IOException {
        if (rows == 0) {
            return;
        }
        root.setRowCount(rows);
        try {
            writer.writeBatch();
            checksum(writer.getRecordBlocks().getLast());
        } catch (IOException e) {
            // "No space left on device" alone does not say which file: the caller stops on this, naming it
            throw new IOException("cannot write " + path + " (" + (total + rows) + " rows so far): " + e.getMessage(), e);
        }
        total += rows;
        rows = 0;
        for (var v : root.getFieldVectors()) {
            v.reset();
        }
    }

    /** Appends the CRC32C of the batch just written, read back from the page cache, to the footer's list. */
    private void checksum(ArrowBlock block) throws IOException {
        readBack = TraceChecksums.read(channel, block, readBack);
        if (!checksums.isEmpty()) {
            checksums.append(',');
        }
        checksums.append(Integer.toHexString(TraceChecksums.crc32c(readBack)));
    }

    /** Rows appended so far, flushed or not. */
    @Override
    public long rowsAppended() {
        return total + rows;
    }

    /** Rows already in the file. */
    @Override
    public long rowsFlushed() {
        return total;
    }

    /** Sets a footer metadata key, written at {@link #close}. */
    public void putFooter(String key, String value) {
        footer.put(key, value);
    }

    /**
     * Flushes, writes the footer and closes the file. Idempotent.
     *
     * @throws IOException naming the file, for the first thing that failed (a full disk, say)
     */
    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        IOException failure = null;
        try {
            flush();
            footer.put(FOOTER_EVENTS, Long.toString(total));
            footer.put(FOOTER_BATCH_CRC32C, checksums.toString());
            writer.end();
        } catch (IOException | RuntimeException e) {
            failure = named(e);
        } finally {
            try {
                writer.close(); // ends the file again if end() failed, and fails again: only the first failure is told
            } catch (RuntimeException e) {
                if (failure == null) {
                    failure = named(e);
                } else {
                    failure.addSuppressed(e);
                }
            }
            channel.close();
            root.close();
            for (long id : dictionaries.getDictionaryIds()) {
                dictionaries.lookup(id).getVector().close();
            }
            allocator.close();
        }
        if (failure != null) {
            throw failure;
        }
    }

    /** {@code e} as an IOException whose message names this file. */
    private IOException named(Exception e) {
        if (e instanceof IOException io && io.getMessage() != null && io.getMessage().contains(path.toString())) {
            return io;
        }
        Throwable cause = e instanceof RuntimeException && e.getCause() instanceof IOException io ? io : e;
        return new IOException("cannot write " + path + ": " + cause.getMessage(), e);
    }
}
