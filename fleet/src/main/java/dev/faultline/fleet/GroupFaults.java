package dev.faultline.fleet;

import dev.faultline.core.trace.FaultTimes;
import org.HdrHistogram.Histogram;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.zip.DataFormatException;

/**
 * One group's faults in one run of one trace, as mergeable state: the count, the bytes their pages
 * hold, the span from the first fault to the last resolution, and an HdrHistogram (3 significant
 * digits, as analyze keeps) of each latency definition and of the queue / service / wake split.
 *
 * <p>Every value is recorded under the rules of {@code faultline analyze}'s GroupStats and span
 * (a definition is recorded only where both its ends are known; latencies at least 1 ns, the
 * split at least 0), so that merged states give analyze's figures. {@link #merge} is associative
 * and commutative: Spark may combine partial states in any order.
 */
public final class GroupFaults implements Serializable {
    private static final long serialVersionUID = 1L;
    /** Marks a time that was not observed (a null column), as the trace format does. */
    public static final long UNKNOWN = Long.MIN_VALUE;

    long faults;
    long bytes;
    long first = Long.MAX_VALUE; // earliest t_fault, else t_read
    long last = Long.MIN_VALUE;  // latest t_wake, else t_resolve_end
    final Histogram endToEnd = new Histogram(3);
    final Histogram faultToResolve = new Histogram(3);
    final Histogram queue = new Histogram(3);
    final Histogram service = new Histogram(3);
    final Histogram wake = new Histogram(3);

    /** Counts one fault row; times are ns or {@link #UNKNOWN}. */
    public void add(long tFault, long tRead, long tResolveEnd, long tWake, int pageSize) {
        faults++;
        bytes += pageSize;
        long t = FaultTimes.start(tFault, tRead);
        if (t != UNKNOWN) {
            first = Math.min(first, t);
        }
        long end = FaultTimes.end(tResolveEnd, tWake);
        if (end != UNKNOWN) {
            last = Math.max(last, end);
        }
        record(endToEnd, FaultTimes.endToEnd(tFault, tWake));
        record(faultToResolve, FaultTimes.faultToResolve(tFault, tResolveEnd));
        record(queue, FaultTimes.queue(tFault, tRead, tResolveEnd));
        record(service, FaultTimes.service(tRead, tResolveEnd));
        record(wake, FaultTimes.wake(tRead, tResolveEnd, tWake));
    }

    private static void record(Histogram h, long nanos) {
        if (nanos != UNKNOWN) {
            h.recordValue(nanos);
        }
    }

    /** Adds {@code o} into this; returns this. */
    public GroupFaults merge(GroupFaults o) {
        faults += o.faults;
        bytes += o.bytes;
        first = Math.min(first, o.first);
        last = Math.max(last, o.last);
        endToEnd.add(o.endToEnd);
        faultToResolve.add(o.faultToResolve);
        queue.add(o.queue);
        service.add(o.service);
        wake.add(o.wake);
        return this;
    }

    /** Faults counted. */
    public long faults() {
        return faults;
    }

    /** The sum of their page sizes. */
    public long bytes() {
        return bytes;
    }

    /** The earliest fault time, or {@link #UNKNOWN}. */
    public long first() {
        return first == Long.MAX_VALUE ? UNKNOWN : first;
    }

    /** The latest resolution, or {@link #UNKNOWN}. */
    public long last() {
        return last;
    }

    /** A compact encoding: the counts, then each histogram's HdrHistogram compressed form (length 0 when empty). */
    public byte[] encode() {
        ByteArrayOutputStream buf = new ByteArrayOutputStream(256);
        try (DataOutputStream out = new DataOutputStream(buf)) {
            out.writeLong(faults);
            out.writeLong(bytes);
            out.writeLong(first);
            out.writeLong(last);
            for (Histogram h : histograms()) {
                byte[] b = compressed(h);
                out.writeInt(b == null ? 0 : b.length);
                if (b != null) {
                    out.write(b);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a byte array does not fail
        }
        return buf.toByteArray();
    }

    /** The state {@link #encode} wrote. */
    public static GroupFaults decode(byte[] encoded) {
        GroupFaults g = new GroupFaults();
        try (DataInputStream in = new DataInputStream(new java.io.ByteArrayInputStream(encoded))) {
            g.faults = in.readLong();
            g.bytes = in.readLong();
            g.first = in.readLong();
            g.last = in.readLong();
            for (Histogram h : g.histograms()) {
                int n = in.readInt();
                if (n > 0) {
                    byte[] b = in.readNBytes(n);
                    h.add(Histogram.decodeFromCompressedByteBuffer(ByteBuffer.wrap(b), 0));
                }
            }
        } catch (IOException | DataFormatException e) {
            throw new IllegalArgumentException("a fleet group state is damaged: " + e.getMessage(), e);
        }
        return g;
    }

    private Histogram[] histograms() {
        return new Histogram[] {endToEnd, faultToResolve, queue, service, wake};
    }

    /** HdrHistogram's compressed encoding of {@code h}, or null when it is empty (what summary rows hold for none). */
    static byte[] compressed(Histogram h) {
        if (h.getTotalCount() == 0) {
            return null;
        }
        ByteBuffer b = ByteBuffer.allocate(h.getNeededByteBufferCapacity());
        int n = h.encodeIntoCompressedByteBuffer(b);
        byte[] out = new byte[n];
        b.flip();
        b.get(out);
        return out;
    }
}
