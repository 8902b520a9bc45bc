package dev.faultline.collector.passive;

import dev.faultline.core.abi.UffdAbi;
import dev.faultline.core.trace.EventKind;
import dev.faultline.core.trace.TraceEvent;
import dev.faultline.core.uffd.ResolveIoctl;
import org.HdrHistogram.Histogram;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Map;

/**
 * Turns what a summary-mode {@link CaptureProgram} counted in the kernel into summary rows
 * ({@link EventKind#FAULT_HISTOGRAM}, {@link EventKind#RESOLVE_COUNT}, and at the end
 * {@link EventKind#THREAD_BLOCKED}): each {@link #write} covers what happened since the previous
 * one, so the rows of a file that was cut off still add up to everything up to its last interval.
 *
 * <p>The kernel's buckets are log-linear, 32 per power of two; each becomes one HdrHistogram value
 * at its middle ({@link CaptureProgram#bucketValue}), so percentiles read from these histograms
 * are within 1.6% of the true value. Regions are the program's slots, mapped to trace ids by the
 * capture's {@link FaultLinker}; slots past {@link CaptureProgram#HIST_REGIONS} - 1 share the last.
 */
final class SummaryRows {
    private static final int REGIONS = CaptureProgram.HIST_REGIONS;
    private static final int OPS = CaptureProgram.HIST_OPS;
    private static final int MEASURES = CaptureProgram.HIST_MEASURES;
    private static final int BUCKETS = CaptureProgram.HIST_BUCKETS;

    private final CaptureProgram program;
    private final long[] lastHistograms = new long[REGIONS * OPS * MEASURES * BUCKETS];
    private final long[] lastCounters = new long[REGIONS * OPS * CaptureProgram.COUNTERS];
    private final Histogram latency = new Histogram(3);
    private final Histogram queue = new Histogram(3);
    private final Histogram service = new Histogram(3);
    private final long[] calls = new long[ResolveIoctl.values().length];
    private final TraceEvent row = new TraceEvent();
    private long seq;
    private long faults;
    private long resolves;
    private long unlinked;
    private long unresolved;

    SummaryRows(CaptureProgram program) {
        this.program = program;
    }

    /**
     * Writes the rows of the interval [{@code from}, {@code to}) (ns, CLOCK_MONOTONIC); with
     * {@code last}, the per-thread rows of the whole capture too.
     */
    void write(PassiveCapture.Sink sink, long from, long to, boolean last) throws IOException {
        for (int slot = 0; slot < REGIONS; slot++) {
            for (int op = UffdAbi._UFFDIO_WAKE; op < OPS; op++) {
                ResolveIoctl ioctl = ioctlOf(op);
                long[] delta = new long[CaptureProgram.COUNTERS];
                boolean anything = false;
                for (int c = 0; c < delta.length; c++) {
                    int k = (slot * OPS + op) * CaptureProgram.COUNTERS + c;
                    long now = program.counter(slot, op, c);
                    delta[c] = now - lastCounters[k];
                    lastCounters[k] = now;
                    anything |= delta[c] != 0;
                }
                if (!anything) {
                    continue;
                }
                calls[ioctl.ordinal()] += delta[CaptureProgram.C_CALLS];
                unlinked += delta[CaptureProgram.C_UNLINKED];
                int region = sink.linker.idOfSlot(slot);
                if (region < 0) {
                    continue; // a slot no registration the capture saw owns
                }
                if (delta[CaptureProgram.C_FAULTS] > 0) {
                    row.clear();
                    row.kind = EventKind.FAULT_HISTOGRAM;
                    row.region = region;
                    row.ioctl = ioctl;
                    row.count = delta[CaptureProgram.C_FAULTS];
                    row.countTimed = delta[CaptureProgram.C_FAULTS_TIMED];
                    row.tRead = from;
                    row.tResolveEnd = to;
                    row.histLatency = histogram(slot, op, CaptureProgram.M_LATENCY, latency);
                    row.histQueue = histogram(slot, op, CaptureProgram.M_QUEUE, queue);
                    row.histService = histogram(slot, op, CaptureProgram.M_SERVICE, service);
                    faults += row.count;
                    row.seq = seq++;
                    sink.row(row);
                } else {
                    for (int m = 0; m < MEASURES; m++) {
                        histogram(slot, op, m, null); // keep the baselines current
                    }
                }
                if (delta[CaptureProgram.C_RESOLVES] > 0) {
                    row.clear();
                    row.kind = EventKind.RESOLVE_COUNT;
                    row.region = region;
                    row.ioctl = ioctl;
                    row.count = delta[CaptureProgram.C_RESOLVES];
                    row.resolveLength = delta[CaptureProgram.C_RESOLVE_BYTES];
                    row.tRead = from;
                    row.tResolveEnd = to;
                    resolves += row.count;
                    row.seq = seq++;
                    sink.row(row);
                }
            }
        }
        if (last) {
            unresolved = program.pendingFaults();
            for (Map.Entry<Integer, long[]> t : program.threads().entrySet()) {
                long[] v = t.getValue();
                sink.thread(t.getKey());
                row.clear();
                row.kind = EventKind.THREAD_BLOCKED;
                row.region = Math.max(0, sink.linker.idOfSlot(0));
                row.tid = t.getKey();
                row.count = v[0];
                row.totalNanos = v[1];
                row.totalFaultNanos = v[2];
                row.countTimed = v[3];
                row.seq = seq++;
                sink.row(row);
            }
        }
    }

    /** The interval's histogram of one (slot, op, measure), encoded; null if empty. Adds it into {@code total}. */
    private byte[] histogram(int slot, int op, int measure, Histogram total) {
        Histogram h = null;
        int base = ((slot * OPS + op) * MEASURES + measure) * BUCKETS;
        for (int b = 0; b < BUCKETS; b++) {
            long now = program.histogram(slot, op, measure, b);
            long d = now - lastHistograms[base + b];
            lastHistograms[base + b] = now;
            if (d > 0 && total != null) {
                if (h == null) {
                    h = new Histogram(3);
                }
                h.recordValueWithCount(Math.max(1, CaptureProgram.bucketValue(b)), d);
            }
        }
        if (h == null) {
            return null;
        }
        total.add(h);
        ByteBuffer buf = ByteBuffer.allocate(h.getNeededByteBufferCapacity());
        int n = h.encodeIntoCompressedByteBuffer(buf);
        return Arrays.copyOf(buf.array(), n);
    }

    private static ResolveIoctl ioctlOf(int nr) {
        return switch (nr) {
            case UffdAbi._UFFDIO_WAKE -> ResolveIoctl.WAKE;
            case UffdAbi._UFFDIO_COPY -> ResolveIoctl.COPY;
            case UffdAbi._UFFDIO_ZEROPAGE -> ResolveIoctl.ZEROPAGE;
            case UffdAbi._UFFDIO_MOVE -> ResolveIoctl.MOVE;
            case UffdAbi._UFFDIO_WRITEPROTECT -> ResolveIoctl.WRITEPROTECT;
            case UffdAbi._UFFDIO_CONTINUE -> ResolveIoctl.CONTINUE;
            case UffdAbi._UFFDIO_POISON -> ResolveIoctl.POISON;
            default -> ResolveIoctl.NONE;
        };
    }

    long faults() {
        return faults;
    }

    long resolves() {
        return resolves;
    }

    /** Calls of {@code op} counted (resolving ones and pushes alike). */
    long calls(ResolveIoctl op) {
        return calls[op.ordinal()];
    }

    /** Faults the kernel side could not link (more than 4 waiters on a page, or a range past 512 pages). */
    long unlinked() {
        return unlinked;
    }

    /** Faults still waiting when the capture ended. */
    long unresolved() {
        return unresolved;
    }

    Histogram latency() {
        return latency;
    }

    Histogram queue() {
        return queue;
    }

    Histogram service() {
        return service;
    }
}
