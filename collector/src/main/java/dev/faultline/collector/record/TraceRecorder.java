package dev.faultline.collector.record;

import dev.faultline.core.abi.Libc;
import dev.faultline.core.abi.MmanAbi;
import dev.faultline.core.trace.Compression;
import dev.faultline.core.trace.EventKind;
import dev.faultline.core.trace.RowSink;
import dev.faultline.core.trace.TraceEvent;
import dev.faultline.core.trace.TraceHeader;
import dev.faultline.core.trace.TraceWriter;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The writer side of recording: a thread that drains the handler threads' {@link RecordRing}s
 * into a trace file, joining each fault row with the faulting thread's timings from the region's
 * {@link TouchClock} where one exists.
 *
 * <p>Invariants: handler threads never wait for this thread (a full ring drops and counts); rows
 * are flushed to the file at least every {@link #FLUSH_NANOS}, so a recorder killed with SIGKILL
 * leaves a file that yields every row up to the last flush; {@link #close} drains every ring,
 * writes the footer ({@code events}, {@code lost_events}, {@code duration_ns}) and closes the file
 * (unless the writer is the caller's: then it only flushes).
 * A fault row whose toucher timing has not arrived yet is held back (its ring stops draining) until
 * the timing arrives, {@link #HOLD_NANOS} (and a second look {@link #GRACE_NANOS} later) pass, or the
 * touchers are {@link #touchersDone done}.
 *
 * <p>The writer thread runs SCHED_IDLE, so it only takes CPU time the handler and faulting threads
 * leave; a watchdog thread moves it to SCHED_OTHER while it is starving (a flush overdue or a ring
 * half full).
 */
public final class TraceRecorder implements AutoCloseable {
    /** Flush period: rows are in the file at most this long after they were handed over. */
    public static final long FLUSH_NANOS = TimeUnit.MILLISECONDS.toNanos(500);
    /** How long the writer sleeps after a pass that left every ring under 10% full (1 ms cost the handler ~30%). */
    static final long IDLE_PARK_NANOS = TimeUnit.MILLISECONDS.toNanos(20);
    /** How often the watchdog checks that the writer is not starving. */
    static final long WATCHDOG_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
    /** The writer takes normal priority when a ring is fuller than this fraction or a flush is overdue… */
    static final double BOOST_ABOVE = 0.5;
    /** …and goes back once every ring is emptier than this one and flushes are on time. */
    static final double CALM_BELOW = 0.1;
    /**
     * How long a fault row waits for its toucher's timing before it is written without… With 200 ms
     * (and 50 ms of grace) a row was once written without on a PVM guest, in a test case that took
     * 0.80 s where it takes 0.34 s: something stalled the toucher that long. 500 ms of rows is some
     * 20,000 at the fastest fault rates measured here, a third of a ring.
     */
    static final long HOLD_NANOS = TimeUnit.MILLISECONDS.toNanos(500);
    /**
     * …and how long after the writer first saw that hold run out it looks once more. A writer and
     * a toucher frozen together (a safepoint, a stalled host) wake with the hold long over; the
     * toucher records its clock microseconds later, so one look on waking would write it without.
     */
    static final long GRACE_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
    /** Footer key: rows dropped because a ring was full. */
    public static final String FOOTER_LOST = "lost_events";
    /** Footer key: nanoseconds from start to close. */
    public static final String FOOTER_DURATION = "duration_ns";

    private final RowSink writer;
    /** The writer when this recorder made it (and writes its footer and closes it), else null. */
    private final TraceWriter owned;
    private final int run;
    private final RecordRing[] rings;
    private final TouchClock[] clocks;
    /** Per ring: when the writer first found its head row's hold run out, 0 while it has not. */
    private final long[] holdOverAt;
    private final Thread thread;
    private final Thread watchdog;
    private volatile int writerTid;
    private volatile boolean writerIdle;
    private volatile long lastFlushNanos = System.nanoTime();
    private final long started = System.nanoTime();
    private volatile boolean stopping;
    private volatile boolean touchersDone;
    private volatile long written;
    private volatile long flushed;
    private volatile Throwable failure;
    private boolean closed;

    /**
     * Creates the file and starts the writer thread.
     *
     * @param rings   one ring per handler thread
     * @param clocks  per region id, the faulting side's timings, or null where the faults are not ours
     */
    public TraceRecorder(Path file, TraceHeader header, Compression compression, List<RecordRing> rings,
                         TouchClock[] clocks) throws IOException {
        this(TraceWriter.create(file, header, compression), rings, clocks);
    }

    private TraceRecorder(TraceWriter owned, List<RecordRing> rings, TouchClock[] clocks) {
        this(owned, owned, -1, rings, clocks);
    }

    /**
     * Records into a sink the caller owns (e.g. one replay run of several into one results file, or
     * a run's {@link dev.faultline.core.trace.RowSpill}): every row gets {@code run} in its run
     * column, and {@link #close} drains and flushes but neither writes a footer nor closes the sink.
     */
    public TraceRecorder(RowSink writer, int run, List<RecordRing> rings, TouchClock[] clocks) {
        this(writer, null, run, rings, clocks);
    }

    private TraceRecorder(RowSink writer, TraceWriter owned, int run, List<RecordRing> rings, TouchClock[] clocks) {
        this.writer = writer;
        this.owned = owned;
        this.run = run;
        this.rings = rings.toArray(RecordRing[]::new);
        this.clocks = clocks.clone();
        this.holdOverAt = new long[this.rings.length];
        this.thread = Thread.ofPlatform().name("faultline-trace-writer").daemon().start(this::run);
        this.watchdog = Thread.ofPlatform().name("faultline-trace-watchdog").daemon().start(this::watch);
    }

    /** Tells the writer that no more toucher timings will arrive: rows still waiting go out without. */
    public void touchersDone() {
        touchersDone = true;
    }

    /** Rows written to the file so far (flushed or in the open batch). */
    public long written() {
        return written;
    }

    /** Rows in the file so far: what a reader would recover if the process died now. */
    public long flushed() {
        return flushed;
    }

    /** Rows dropped so far because a ring was full. */
    public long lost() {
        long n = 0;
        for (RecordRing r : rings) {
            n += r.dropped();
        }
        return n;
    }

    private void run() {
        // SCHED_IDLE while it keeps up: the writer then runs on CPU time nobody else wants (a core
        // whose faulting thread waits on its fault) and any waking handler or faulting thread
        // preempts it at once; at nice 19 its drain bursts still delayed those wake-ups. A
        // SCHED_IDLE thread can starve when the cores are busy, so the watchdog thread lifts it to
        // SCHED_OTHER when a flush is overdue or a ring is half full; calm again, it goes back.
        writerTid = Libc.gettid();
        writerIdle = Libc.setScheduler(writerTid, MmanAbi.SCHED_IDLE) == 0;
        TraceEvent e = new TraceEvent();
        try {
            while (true) {
                boolean last = stopping;
                drain(e, last);
                long now = System.nanoTime();
                boolean due = now - lastFlushNanos >= FLUSH_NANOS;
                if (due || last) {
                    writer.flush();
                    lastFlushNanos = now;
                    flushed = writer.rowsFlushed();
                }
                if (last) {
                    return;
                }
                double fill = fullest();
                if (!writerIdle && fill < CALM_BELOW && !due) {
                    writerIdle = Libc.setScheduler(writerTid, MmanAbi.SCHED_IDLE) == 0;
                }
                // Drain in bulk, then sleep: a writer that loops while rows trickle in chases the
                // handler's ring tail and the faulting threads' clock lines, a cache-line transfer
                // per fault on both sides; that cost recording ~5% of the handler's throughput.
                if (fill < CALM_BELOW) {
                    LockSupport.parkNanos(IDLE_PARK_NANOS);
                }
            }
        } catch (Throwable t) {
            failure = t;
        }
    }

    /** Whether writing has failed (a full disk, a removed directory): the run should stop now, not at its end. */
    public boolean failed() {
        return failure != null;
    }

    /** Lifts a starving SCHED_IDLE writer to normal priority; wakes every {@link #WATCHDOG_NANOS}. */
    private void watch() {
        while (!stopping) {
            LockSupport.parkNanos(WATCHDOG_NANOS);
            if (writerIdle && (System.nanoTime() - lastFlushNanos > 2 * FLUSH_NANOS || fullest() > BOOST_ABOVE)) {
                writerIdle = Libc.setScheduler(writerTid, MmanAbi.SCHED_OTHER) != 0;
            }
        }
    }

    private double fullest() {
        double max = 0;
        for (RecordRing r : rings) {
            max = Math.max(max, (double) r.size() / r.capacity());
        }
        return max;
    }

    /** Moves every row that is ready; with {@code all}, every row there is. */
    private void drain(TraceEvent e, boolean all) throws IOException {
        boolean waitForClocks = !all && !touchersDone;
        for (int r = 0; r < rings.length; r++) {
            RecordRing ring = rings[r];
            while (ring.peek(e)) {
                if (e.kind == EventKind.PAGEFAULT && e.region >= 0 && e.region < clocks.length && clocks[e.region] != null) {
                    TouchClock c = clocks[e.region];
                    long wake = c.wake(e.offset);
                    if (wake == 0 && waitForClocks) {
                        long now = System.nanoTime();
                        // Read again after the time: a SCHED_IDLE writer can be starved for a long
                        // while between one statement and the next, and the first read is then stale.
                        wake = c.wake(e.offset);
                        if (wake == 0 && !holdOver(r, e.tRead, now)) {
                            break; // the faulting thread has not reported yet; keep this ring's order
                        }
                    }
                    if (wake != 0) {
                        e.tFault = c.fault(e.offset);
                        e.tWake = wake;
                    }
                }
                e.run = run;
                writer.append(e);
                ring.advance();
                holdOverAt[r] = 0;
            }
        }
        written = writer.rowsAppended();
    }

    /**
     * Whether ring {@code r}'s head row, read by its handler at {@code tRead}, has waited long
     * enough for its toucher's clock: {@link #HOLD_NANOS} since the read, and then
     * {@link #GRACE_NANOS} more since the writer first saw that, so the row gets a second look
     * on a later pass.
     */
    private boolean holdOver(int r, long tRead, long now) {
        if (now - tRead < HOLD_NANOS) {
            return false;
        }
        if (holdOverAt[r] == 0) {
            holdOverAt[r] = now;
            return false;
        }
        return now - holdOverAt[r] >= GRACE_NANOS;
    }

    /**
     * Drains everything, writes the footer and closes the file. Only the first call counts.
     *
     * @param footer extra footer keys and values, in pairs
     * @throws IOException if writing failed at any point (the file then holds what was flushed)
     */
    public void close(String... footer) throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        stopping = true;
        LockSupport.unpark(thread); // neither waits out its sleep
        LockSupport.unpark(watchdog);
        try {
            thread.join();
            watchdog.join();
        } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
        }
        if (owned == null) {
            if (failure == null) {
                writer.flush();
                flushed = writer.rowsFlushed();
            }
            rethrowFailure();
            return;
        }
        try {
            if (failure == null) {
                owned.putFooter(FOOTER_LOST, Long.toString(lost()));
                owned.putFooter(FOOTER_DURATION, Long.toString(System.nanoTime() - started));
                for (int i = 0; i + 1 < footer.length; i += 2) {
                    owned.putFooter(footer[i], footer[i + 1]);
                }
            }
            owned.close();
        } catch (IOException | RuntimeException e) {
            if (failure == null) {
                throw e;
            }
            failure.addSuppressed(e); // closing a file that already failed fails again: the first failure is the one to tell
        }
        rethrowFailure();
    }

    private void rethrowFailure() throws IOException {
        if (failure != null) {
            throw failure instanceof IOException io ? io
                    : failure instanceof UncheckedIOException u ? u.getCause()
                    : new IOException("writing " + writer.path() + " failed: " + failure.getMessage(), failure);
        }
    }

    @Override
    public void close() throws IOException {
        close(new String[0]);
    }
}
