package dev.faultline.collector.passive;

import dev.faultline.core.abi.Libc;
import dev.faultline.core.abi.MmanAbi;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Set;

/**
 * The scheduling policy of this JVM's threads while a capture runs, back to SCHED_OTHER after.
 * Its records wait in the ring buffer meanwhile (the kernel side stamps their times), so a policy
 * costs nothing but a little latency of the file. Which one depends on the handler traced:
 *
 * <ul>
 * <li>SCHED_IDLE while the handler sleeps when it has nothing to do (QEMU, a handler in poll(2)):
 *     the capture then takes only CPU time the traced process leaves idle and yields the moment
 *     one of its threads wakes. SCHED_BATCH cost a 64 MiB QEMU migration 1.38× its total time
 *     where SCHED_IDLE cost 1.10×.
 * <li>SCHED_BATCH while it spins (reads its uffd without sleeping: the program counts the reads
 *     that found nothing, {@link #spinning}): the only idle time is then the gap each faulting thread
 *     leaves while it waits, and an idle-class capture ran in every such gap and was thrown out
 *     when the thread woke — two switches of address space a fault, on a paravirtualised kernel
 *     (PVM) the hypervisor's work: the C floor's spinning p50 went 2.7-3.4× slower. A batch thread
 *     never preempts on waking and runs its whole slice when it runs: 1.0-1.1×.
 * </ul>
 *
 * <p>{@value #POLICY_ENV}{@code =batch|idle|other} fixes the policy instead (measuring it on
 * another machine needs no rebuild); unset or {@code auto} is the above.
 */
final class CaptureThreads implements AutoCloseable {
    /** The environment variable that fixes the policy. */
    static final String POLICY_ENV = "FAULTLINE_CAPTURE_SCHED";
    /** Empty reads of the traced uffds a second from which the handler may be spinning (the C floor's make millions)… */
    static final long SPINNING_READS_PER_SEC = 10_000;
    /**
     * …if they are also this many per read that found messages: a handler in poll(2) reads until
     * EAGAIN, about one empty read per full one; the spinning C floor made ~47.
     */
    static final long SPINNING_EMPTY_PER_FULL = 4;
    /** {@link #policy}'s answer for {@code auto}: follow the handler. */
    static final int AUTO = -1;

    private final boolean adaptive;
    private final Set<Integer> changed = new LinkedHashSet<>();
    private int current = MmanAbi.SCHED_OTHER;

    private CaptureThreads(boolean adaptive) {
        this.adaptive = adaptive;
    }

    /**
     * Puts every thread of this JVM at the capture's policy (threads it starts later inherit it
     * from their creator): the one {@value #POLICY_ENV} names, else SCHED_BATCH until
     * {@link #handlerReads} says the handler sleeps. Not SCHED_IDLE first: beside a handler that
     * spins from its start, an idle-class capture thread waited up to 4 s for a CPU to find out.
     */
    static CaptureThreads yieldToTheTracedProcess() {
        int fixed = policy(System.getenv(POLICY_ENV));
        CaptureThreads threads = new CaptureThreads(fixed == AUTO);
        threads.set(fixed == AUTO ? MmanAbi.SCHED_BATCH : fixed);
        return threads;
    }

    /** The policy {@code name} ({@value #POLICY_ENV}'s value) names, or {@link #AUTO} for null, empty or {@code auto}. */
    static int policy(String name) {
        if (name == null || name.isBlank()) {
            return AUTO;
        }
        return switch (name.strip().toLowerCase(Locale.ROOT)) {
            case "auto" -> AUTO;
            case "batch" -> MmanAbi.SCHED_BATCH;
            case "idle" -> MmanAbi.SCHED_IDLE;
            case "other", "normal" -> MmanAbi.SCHED_OTHER;
            default -> throw new CaptureException(POLICY_ENV + "=" + name
                    + " is not a policy a capture can run at: auto, batch, idle or other");
        };
    }

    /**
     * In the last {@code nanos} the handler read its uffds {@code emptyReads} times finding nothing
     * and {@code fullReads} times finding messages: at {@link #SPINNING_READS_PER_SEC} empty reads
     * or more, and {@link #SPINNING_EMPTY_PER_FULL} or more per full one, it spins and the capture
     * goes to SCHED_BATCH; otherwise to SCHED_IDLE (unless the policy is fixed).
     */
    void handlerReads(long emptyReads, long fullReads, long nanos) {
        if (adaptive && nanos > 0) {
            set(spinning(emptyReads, fullReads, nanos) ? MmanAbi.SCHED_BATCH : MmanAbi.SCHED_IDLE);
        }
    }

    /** Whether reads like these are a handler spinning (see {@link #handlerReads}). */
    static boolean spinning(long emptyReads, long fullReads, long nanos) {
        return emptyReads * 1_000_000_000L / nanos >= SPINNING_READS_PER_SEC && emptyReads >= SPINNING_EMPTY_PER_FULL * fullReads;
    }

    /** The policy the threads are at now. */
    int current() {
        return current;
    }

    /** {@code policy}'s name as {@value #POLICY_ENV} takes it: batch, idle or other. */
    static String name(int policy) {
        return switch (policy) {
            case MmanAbi.SCHED_BATCH -> "batch";
            case MmanAbi.SCHED_IDLE -> "idle";
            default -> "other";
        };
    }

    private void set(int policy) {
        if (policy == current) {
            return;
        }
        current = policy;
        try (DirectoryStream<Path> dir = Files.newDirectoryStream(Path.of("/proc/self/task"))) {
            for (Path t : dir) {
                int tid = Integer.parseInt(t.getFileName().toString());
                if (Libc.setScheduler(tid, policy) == 0) {
                    changed.add(tid);
                }
            }
        } catch (IOException | NumberFormatException e) {
            // no /proc: the capture runs at normal priority
        }
    }

    /** Back to SCHED_OTHER for the threads that were changed (a test JVM goes on after its capture). */
    @Override
    public void close() {
        for (int tid : changed) {
            Libc.setScheduler(tid, MmanAbi.SCHED_OTHER);
        }
        Libc.setScheduler(Libc.gettid(), MmanAbi.SCHED_OTHER);
    }
}
