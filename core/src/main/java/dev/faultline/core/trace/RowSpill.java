package dev.faultline.core.trace;

import dev.faultline.core.uffd.ResolveIoctl;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Rows written as they come to a flat file of fixed fields, and into a results file
 * ({@link #copyTo}) once a run is over: a replay in a guest records this way, so that it makes no
 * Arrow writer, and initialises neither Arrow nor the Jackson that Arrow's schema classes bring,
 * before its first fault (docs/kernels.md).
 *
 * <p>Invariants: {@link #copyTo} yields the rows in the order they were appended, every field as
 * appended; the file is this process's own scratch, read back by the same build.
 */
public final class RowSpill implements RowSink, AutoCloseable {
    private static final EventKind[] KINDS = EventKind.values();
    private static final ResolveIoctl[] IOCTLS = ResolveIoctl.values();

    private final Path path;
    private final DataOutputStream out;
    private long appended;
    private long flushed;
    private boolean closed;

    private RowSpill(Path path, DataOutputStream out) {
        this.path = path;
        this.out = out;
    }

    /** A spill writing to {@code file}, which it truncates. */
    public static RowSpill create(Path file) throws IOException {
        return new RowSpill(file, new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(file), 1 << 16)));
    }

    @Override
    public void append(TraceEvent e) throws IOException {
        out.writeLong(e.seq);
        out.writeByte(e.kind.ordinal());
        out.writeInt(e.region);
        out.writeLong(e.offset);
        out.writeLong(e.address);
        out.writeInt(e.flags);
        out.writeInt(e.tid);
        out.writeByte(e.ioctl.ordinal());
        out.writeLong(e.resolveOffset);
        out.writeLong(e.resolveLength);
        out.writeInt(e.result);
        out.writeInt(e.resolveMode);
        out.writeLong(e.tFault);
        out.writeLong(e.tRead);
        out.writeLong(e.tResolveStart);
        out.writeLong(e.tResolveEnd);
        out.writeLong(e.tWake);
        out.writeInt(e.run);
        out.writeLong(e.count);
        out.writeLong(e.countTimed);
        out.writeLong(e.totalNanos);
        out.writeLong(e.totalFaultNanos);
        writeBytes(e.histLatency);
        writeBytes(e.histQueue);
        writeBytes(e.histService);
        writeBytes(e.histEndToEnd);
        writeBytes(e.histWake);
        appended++;
    }

    private void writeBytes(byte[] b) throws IOException {
        if (b == null) {
            out.writeInt(-1);
        } else {
            out.writeInt(b.length);
            out.write(b);
        }
    }

    @Override
    public void flush() throws IOException {
        out.flush();
        flushed = appended;
    }

    @Override
    public long rowsAppended() {
        return appended;
    }

    @Override
    public long rowsFlushed() {
        return flushed;
    }

    @Override
    public Path path() {
        return path;
    }

    /**
     * Flushes, then appends every row spilled so far to {@code writer}, in order.
     *
     * @return the rows copied
     * @throws IOException naming the spill file when it cannot be read back whole
     */
    public long copyTo(RowSink writer) throws IOException {
        flush();
        TraceEvent e = new TraceEvent();
        try (DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(path), 1 << 16))) {
            for (long n = 0; n < appended; n++) {
                e.seq = in.readLong();
                e.kind = KINDS[in.readUnsignedByte()];
                e.region = in.readInt();
                e.offset = in.readLong();
                e.address = in.readLong();
                e.flags = in.readInt();
                e.tid = in.readInt();
                e.ioctl = IOCTLS[in.readUnsignedByte()];
                e.resolveOffset = in.readLong();
                e.resolveLength = in.readLong();
                e.result = in.readInt();
                e.resolveMode = in.readInt();
                e.tFault = in.readLong();
                e.tRead = in.readLong();
                e.tResolveStart = in.readLong();
                e.tResolveEnd = in.readLong();
                e.tWake = in.readLong();
                e.run = in.readInt();
                e.count = in.readLong();
                e.countTimed = in.readLong();
                e.totalNanos = in.readLong();
                e.totalFaultNanos = in.readLong();
                e.histLatency = readBytes(in);
                e.histQueue = readBytes(in);
                e.histService = readBytes(in);
                e.histEndToEnd = readBytes(in);
                e.histWake = readBytes(in);
                writer.append(e);
            }
        } catch (EOFException ex) {
            throw new IOException("the row spill " + path + " ends before its " + appended + " rows do");
        }
        return appended;
    }

    private static byte[] readBytes(DataInputStream in) throws IOException {
        int n = in.readInt();
        if (n < 0) {
            return null;
        }
        byte[] b = new byte[n];
        in.readFully(b);
        return b;
    }

    /** Closes the file (it stays where it is: the caller's scratch file removes it). */
    @Override
    public void close() throws IOException {
        if (!closed) {
            closed = true;
            out.close();
        }
    }
}
