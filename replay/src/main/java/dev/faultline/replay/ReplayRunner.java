package dev.faultline.replay;

import dev.faultline.core.trace.OutputFile;
import dev.faultline.analysis.Analyzer;
import dev.faultline.analysis.By;
import dev.faultline.analysis.TraceAnalysis;
import dev.faultline.collector.handler.HandledRegion;
import dev.faultline.collector.handler.PageSource;
import dev.faultline.collector.handler.UffdHandler;
import dev.faultline.collector.record.RecordRing;
import dev.faultline.collector.record.TouchClock;
import dev.faultline.collector.record.TraceRecorder;
import dev.faultline.collector.touch.TouchRun;
import dev.faultline.collector.touch.Toucher;
import dev.faultline.core.abi.Libc;
import dev.faultline.core.probe.CapabilityProbe;
import dev.faultline.core.probe.ProbeCell;
import dev.faultline.core.region.Backend;
import dev.faultline.core.region.CpuIdle;
import dev.faultline.core.region.CpuIdleHold;
import dev.faultline.core.region.HugePages;
import dev.faultline.core.region.Region;
import dev.faultline.core.region.SystemMemory;
import dev.faultline.core.trace.EventKind;
import dev.faultline.core.trace.RegionInfo;
import dev.faultline.core.trace.RowSink;
import dev.faultline.core.trace.RowSpill;
import dev.faultline.core.trace.ScratchFile;
import dev.faultline.core.trace.TraceEvent;
import dev.faultline.core.trace.TraceHeader;
import dev.faultline.core.trace.TraceWriter;
import dev.faultline.core.uffd.ResolveIoctl;
import dev.faultline.core.uffd.Userfaultfd;
import dev.faultline.replay.plan.Push;
import dev.faultline.replay.plan.RegionPlan;
import dev.faultline.replay.plan.ReplayPlan;

import org.HdrHistogram.Histogram;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;

/**
 * Runs a {@link ReplayPlan}: per run, maps fresh regions, registers them under a
 * {@link UffdHandler} whose {@link TracePolicy} resolves each fault as recorded, lets one
 * {@link Toucher} per planned thread play its script (and a pusher re-issue the RESOLVE rows),
 * then shuts down in the order that leaves no thread hung, and appends the run's rows to the
 * results file.
 *
 * <p>{@link #check} refuses, before anything is mapped, what this machine cannot do: too little
 * memory or too few huge pages, or a backend × mode × ioctl the kernel answers with an error (one
 * probe cell per combination, a real fault). Results are written to an unnamed file beside
 * {@code FILE} (O_TMPFILE; a hidden {@code .FILE.partial} where the file system has none) and named
 * {@code FILE} only when every run finished; a failure, {@link #stop} or SIGKILL leaves nothing.
 *
 * <p>Warm-up runs: the options' count, then more while the JIT was still busy in the last one
 * ({@link TouchRun.Timing#jitBusy}), up to {@link #MAX_WARM_UPS} runs and, for the extra ones,
 * {@link #EXTRA_WARM_UP_NANOS} of warming. Measured runs park the JIT where it cannot
 * disturb the faulting threads ({@link TouchRun}), so what it has not compiled by then stays
 * interpreted for the run: 2000-fault hugetlb2m replays were still compiling in their fifth run.
 */
public final class ReplayRunner {
    /** Warm-up runs in all at most, unless more were asked for. */
    static final int MAX_WARM_UPS = 10;
    /** No extra warm-up run starts once warming has taken this long. */
    static final long EXTRA_WARM_UP_NANOS = 5_000_000_000L;
    /** One progress report: which run (negative: warm-up), touches done of how many, faults so far, nanoseconds. */
    public record Progress(int run, int runs, long touched, long touches, long faults, long nanos) {
    }

    /**
     * What a whole replay produced.
     *
     * @param runs     warm-up runs, then measured ones
     * @param results  the results file, or null when none was kept
     * @param analysis the results file analyzed: latency per (ioctl, page size, backend) and per run
     * @param onDemand with --prefetch, one unmeasured run of the same plan without it (what prefetching is compared with), else null
     * @param cpuIdle  what idle CPUs did: {@code poll}, {@code system}, or {@code system: WHY} when polling was asked for and refused
     */
    public record Result(List<RunResult> runs, Path results, TraceAnalysis analysis, RunResult onDemand, String cpuIdle) {
        /** Fault latency of measured run {@code run} over every group, or null if it has no fault rows. */
        public Histogram runLatency(int run) {
            Histogram all = null;
            for (Map<Integer, Histogram> byRun : analysis.runs().values()) {
                Histogram h = byRun.get(run);
                if (h != null) {
                    if (all == null) {
                        all = new Histogram(3);
                    }
                    all.add(h);
                }
            }
            return all;
        }
    }

    private final ReplayPlan plan;
    private final ReplayOptions options;
    private volatile boolean stop;
    private boolean checked;
    private TraceWriter writer;
    private int warmUpRuns;
    private String cpuIdle;
    private boolean spillRows;

    public ReplayRunner(ReplayPlan plan, ReplayOptions options) {
        this.plan = plan;
        this.options = options;
    }

    /**
     * Has every run record its rows into a flat {@link RowSpill}, written into the results file only
     * after the run: no Arrow is set up, and so neither Arrow nor Jackson initialised, before the
     * first run's first fault. A replay in a guest runs so (under TCG that was seconds of its start).
     */
    public ReplayRunner spillRows() {
        spillRows = true;
        return this;
    }

    /** Ends the current run's touches early; {@link #run} then removes the partial results and throws. */
    public void stop() {
        stop = true;
    }

    /**
     * Checks that this machine can replay the plan: memory or huge pages for every region, and the
     * kernel's answer for each backend × mode × ioctl used.
     *
     * @throws ReplayException saying in one line why not
     */
    public void check() {
        Map<Long, Long> hugeNeed = new TreeMap<>();
        for (RegionPlan r : plan.regions()) {
            if (r.backend().isHugetlb()) {
                hugeNeed.merge(r.pageSize(), r.length() / r.pageSize(), Long::sum); // hugetlb reserves at mmap
            }
        }
        long bytes = plan.residentBytes();
        for (Map.Entry<Long, Long> e : hugeNeed.entrySet()) {
            long need = e.getValue() + 1; // +1 for the probe's page
            long free = HugePages.free(e.getKey());
            if (free < need) {
                throw new ReplayException(plan.trace() + " needs " + e.getValue() + " " + Backend.fromTrace("hugetlb", e.getKey()).label()
                        + " pages (+1 for the probe), " + free + " are free; reserve them: " + HugePages.reserveHint(e.getKey(), need));
            }
        }
        long available = SystemMemory.available();
        if (bytes > available / 10 * 9) {
            throw new ReplayException(plan.trace() + " needs " + (bytes >> 20) + " MiB resident to replay; only "
                    + (available >> 20) + " MiB are available");
        }
        Map<String, ProbeCell> seen = new HashMap<>();
        CapabilityProbe probe = new CapabilityProbe();
        for (RegionPlan r : plan.regions()) {
            for (ResolveIoctl op : r.opsUsed()) {
                ProbeCell cell = seen.computeIfAbsent(r.backend() + "/" + r.mode() + "/" + op,
                        k -> probe.probe(r.backend(), r.mode(), op));
                if (!cell.supported()) {
                    throw new ReplayException("region " + r.id() + " (" + r.name() + ") on " + r.backend().label()
                            + " cannot resolve " + r.mode() + " faults with " + op + " on this kernel: " + cell.detail()
                            + (op == ResolveIoctl.ZEROPAGE && r.backend().isHugetlb()
                                    ? " (hugetlb has no ZEROPAGE: --resolve copy places those pages by COPY)"
                                    : " (faultline probe shows what can)"));
                }
            }
        }
        checked = true;
    }

    /**
     * Runs the warm-up runs, then the measured ones, writing the measured runs' rows to {@code out}.
     *
     * @param out      the results file, or null to keep none (the summary is still computed)
     * @param command  the command line, for the results' metadata
     * @param progress called about once a second
     * @throws ReplayException if a run failed or was stopped (no results file is left then)
     */
    public Result run(Path out, String command, Consumer<Progress> progress) throws IOException {
        if (!checked) {
            check();
        }
        // results are written to an unnamed file beside -o (O_TMPFILE) and named only when complete, so that a replay
        // killed even with SIGKILL leaves nothing; where the file system has no O_TMPFILE, to a hidden .FILE.partial
        ScratchFile scratch = out == null ? ScratchFile.create() : scratchBeside(out);
        Path partial = scratch != null ? scratch.path() : OutputFile.partial(out);
        if (scratch == null) {
            Files.deleteIfExists(partial); // left by a replay that was killed
            Files.createFile(partial);     // an unwritable place fails now, not after the first run
        }
        List<RunResult> results = new ArrayList<>();
        RunResult onDemand = null;
        boolean done = false;
        CpuIdleHold idle = CpuIdleHold.of(options.cpuIdle());
        cpuIdle = idle.held() ? CpuIdle.POLL.label() : CpuIdle.SYSTEM.label() + (idle.refused() ? ": " + idle.why() : "");
        try (idle) {
            long warmStart = System.nanoTime();
            boolean jitBusy = true;
            while (warmUpRuns < options.warmup() || warmUpRuns > 0 && jitBusy && warmUpRuns < MAX_WARM_UPS
                    && System.nanoTime() - warmStart < EXTRA_WARM_UP_NANOS) {
                RunResult w = runOnce(-1 - warmUpRuns, options.prefetch(), partial, command, progress);
                results.add(w);
                warmUpRuns++;
                jitBusy = new TouchRun.Timing(w.nanos(), w.jitNanos()).jitBusy();
                if (stop) {
                    throw new ReplayException("stopped during warm-up run " + warmUpRuns + "; no results were written");
                }
            }
            for (int run = 0; run < options.runs(); run++) {
                if (run == 0 && options.prefetch()) {
                    onDemand = runOnce(-1, false, partial, command, progress);
                }
                results.add(runOnce(run, options.prefetch(), partial, command, progress));
                if (stop) {
                    throw new ReplayException("stopped during run " + run + "; no results were written");
                }
            }
            long lost = 0;
            long measuredFaults = 0;
            for (RunResult r : results) {
                lost += r.lost();
                measuredFaults += r.warmup() ? 0 : r.faults();
            }
            if (measuredFaults == 0 && !options.allowEmpty() && !options.prefetch()) { // a prefetch run has none by design
                throw new ReplayException("the measured run" + (options.runs() > 1 ? "s" : "") + " held no fault: the replay "
                        + "measured nothing (" + emptyReason() + "); --allow-empty keeps such results");
            }
            writer.putFooter(TraceRecorder.FOOTER_LOST, Long.toString(lost));
            writer.putFooter("runs", Integer.toString(options.runs()));
            writer.close();
            TraceAnalysis analysis = Analyzer.analyze(partial, By.NONE);
            Path kept = null;
            if (out != null) {
                OutputFile.keepPrevious(out);
                if (scratch != null) {
                    scratch.linkAs(out);
                } else {
                    Files.move(partial, out, StandardCopyOption.ATOMIC_MOVE);
                }
                kept = out;
            }
            done = true;
            return new Result(List.copyOf(results), kept, analysis, onDemand, cpuIdle);
        } finally {
            if (writer != null) {
                try {
                    writer.close();
                } catch (IOException | RuntimeException ignored) {
                    // the file is removed below; the run's own failure is what the user needs to see
                }
            }
            if (scratch != null) {
                scratch.close(); // unnamed results (nobody keeps them, or the replay failed): freed with the descriptor
            } else if (!done) {
                Files.deleteIfExists(partial);
            }
        }
    }

    /** An unnamed file in {@code out}'s directory, or null where its file system cannot make one (no O_TMPFILE). */
    private static ScratchFile scratchBeside(Path out) {
        try {
            return ScratchFile.create(out.toAbsolutePath().getParent(), 0666); // the umask applies, as to any file
        } catch (IOException e) {
            return null;
        }
    }

    /** Why a run may have held no fault, as far as the plan tells. */
    private String emptyReason() {
        if (plan.plannedFaults() == 0) {
            return "the trace has no fault to replay, only " + plan.pushes().size() + " pushes";
        }
        return plan.pushes().isEmpty() ? "every touched page was already present"
                : "the " + plan.pushes().size() + " pushes installed the pages before their touches";
    }

    /** One run: measured (rows to the results file) when {@code run >= 0}; with {@code prefetch}, the working set goes in first. */
    private RunResult runOnce(int run, boolean prefetch, Path partial, String command, Consumer<Progress> progress)
            throws IOException {
        boolean measured = run >= 0;
        boolean timed = measured || options.prefetch() && !prefetch; // the on-demand run a prefetch is compared with
        List<AutoCloseable> closers = new ArrayList<>();
        try {
            List<HandledRegion> handled = new ArrayList<>();
            List<TracePolicy> policies = new ArrayList<>();
            for (RegionPlan r : plan.regions()) {
                PageSource source = PageSource.pattern(r.maxRangeLength(), TracePolicy.FILL);
                closers.add(source);
                TracePolicy policy = new TracePolicy(r, source, options.delay().fromTrace() ? 0 : options.delay().nanos(),
                        plan.waitsForReads(r.id()));
                closers.add(policy);
                Region region = Region.map(r.backend(), r.length());
                closers.add(region);
                handled.add(new HandledRegion(r.id(), r.name(), region, policy, TouchClock.sparse(r.pages(), r.pageSize())));
                policies.add(policy);
            }
            Userfaultfd uffd = Userfaultfd.open(UffdHandler.features(handled));
            UffdHandler handler;
            try {
                handler = new UffdHandler(uffd, handled, options.handlerThreads(), options.waitStrategy(),
                        options.ringCapacity());
            } catch (RuntimeException e) {
                uffd.close();
                throw e;
            }
            RecordRing pushRing = !plan.pushes().isEmpty() ? new RecordRing(options.ringCapacity()) : null;
            TraceRecorder recorder = null;
            long prefetched = 0;
            long prefetchNanos = 0;
            TouchRun.Timing timing = new TouchRun.Timing(0, 0);
            Pusher pusher = null;
            RowSpill spill = null;
            Instant start = Instant.now(); // the results' start time is the run's, however long after it they are written
            Toucher[] touchers = touchers(handled, handler);
            try {
                List<RecordRing> rings = new ArrayList<>(handler.rings());
                if (pushRing != null) {
                    rings.add(pushRing);
                }
                // an unmeasured run records too, into a scratch file: it warms the very code the measured runs use
                RowSink into;
                if (spillRows) {
                    ScratchFile file = ScratchFile.create();
                    closers.add(file);
                    spill = RowSpill.create(file.path());
                    closers.add(spill);
                    into = spill;
                } else {
                    TraceHeader header = header(command, uffd.features(), handled, start);
                    into = measured ? writer(partial, header) : scratch(header, closers);
                }
                recorder = new TraceRecorder(into, run, rings, handler.clocks());
                if (prefetch) {
                    long t0 = System.nanoTime();
                    for (int i = 0; i < handled.size(); i++) {
                        prefetched += policies.get(i).installAll(uffd, handled.get(i).region().address());
                    }
                    prefetchNanos = System.nanoTime() - t0;
                }
                if (!plan.pushes().isEmpty()) {
                    pusher = new Pusher(uffd, handler, handled, policies, pushRing, touchers);
                    pusher.thread.start();
                }
                long touches = plan.touches();
                timing = TouchRun.runAll(touchers, handler.cpus(), timed, this::stop, ns -> progress.accept(new Progress(run, options.runs(),
                        TouchRun.done(touchers), touches, handler.faults(), ns)));
            } finally {
                if (pusher != null) {
                    pusher.finish();
                }
                handler.close(); // stops the handler threads and releases any toucher still on a fault
                if (recorder != null) {
                    recorder.touchersDone();
                    recorder.close();
                }
            }
            Throwable failure = handler.failure();
            if (failure == null && pusher != null) {
                failure = pusher.failure;
            }
            if (failure != null) {
                throw new ReplayException((measured ? "run " + run : "a warm-up run") + " failed: " + failure.getMessage()
                        + "; no results were written", failure);
            }
            if (spill != null && measured) {
                // the header only now: making one (the host's name, the time in ISO-8601) took 0.4 s of a TCG guest's start
                spill.copyTo(writer(partial, header(command, uffd.features(), handled, start)));
            }
            String verified = options.verify() ? verify(handled, policies) : null;
            return new RunResult(run, handler.faults(), TouchRun.done(touchers), timing.nanos(), timing.jitNanos(), prefetched, prefetchNanos,
                    pusher == null ? 0 : pusher.issued, recorder == null ? 0 : recorder.lost(), verified);
        } finally {
            for (int i = closers.size() - 1; i >= 0; i--) {
                try {
                    closers.get(i).close();
                } catch (Exception ignored) {
                    // closing regions and sources does not fail in a way the user can act on
                }
            }
        }
    }

    private String verify(List<HandledRegion> handled, List<TracePolicy> policies) {
        for (int i = 0; i < handled.size(); i++) {
            TouchClock clock = handled.get(i).clock();
            String problem = policies.get(i).verify(handled.get(i).region().address(), slot -> clock.latency(slot) >= 0);
            if (problem != null) {
                return problem;
            }
        }
        return "ok";
    }

    private Toucher[] touchers(List<HandledRegion> handled, UffdHandler handler) {
        long[] bases = new long[handled.size()];
        long[] pageSizes = new long[handled.size()];
        TouchClock[] clocks = new TouchClock[handled.size()];
        for (HandledRegion h : handled) {
            bases[h.id()] = h.region().address();
            pageSizes[h.id()] = h.region().pageSize();
            clocks[h.id()] = h.clock();
        }
        Toucher[] touchers = new Toucher[plan.scripts().size()];
        for (int t = 0; t < touchers.length; t++) {
            touchers[t] = new Toucher(plan.scripts().get(t), bases, pageSizes, clocks,
                    () -> stop || handler.failure() != null);
        }
        return touchers;
    }

    private TraceWriter writer(Path partial, TraceHeader header) throws IOException {
        if (writer == null) {
            writer = TraceWriter.create(partial, header, options.compression(), true);
        }
        return writer;
    }

    /** A results writer for an unmeasured run, on a temporary file deleted when the run's closers run. */
    private TraceWriter scratch(TraceHeader header, List<AutoCloseable> closers) throws IOException {
        ScratchFile file = ScratchFile.create();
        closers.add(file);
        TraceWriter w = TraceWriter.create(file.path(), header, options.compression(), true);
        closers.add(w);
        return w;
    }

    private TraceHeader header(String command, long features, List<HandledRegion> handled, Instant start) {
        List<RegionInfo> regions = new ArrayList<>();
        for (HandledRegion h : handled) {
            regions.add(h.info());
        }
        TraceHeader recorded = plan.header();
        return TraceHeader.startedAt(start, "replay", command, features, regions)
                .with("trace", plan.trace().getFileName().toString())
                .with("trace_source", recorded.source())
                .with("trace_kernel", recorded.kernel())
                .with("backend", options.backend() == null ? "as recorded" : options.backend().label())
                .with("resolve", options.resolve() == null ? "as recorded" : options.resolve().name())
                .with("threads", Integer.toString(plan.scripts().size()))
                .with("handler_threads", Integer.toString(options.handlerThreads()))
                .with("wait", options.waitStrategy().label())
                .with("pace", options.pace().label())
                .with("delay", options.delay().label())
                .with("delay_ns", Long.toString(options.delay().fromTrace() ? 0 : options.delay().nanos()))
                .with("prefetch", options.prefetch() ? "working-set" : "none")
                .with("cpu_idle", cpuIdle)
                .with("runs", Integer.toString(options.runs()))
                .with("warmup", Integer.toString(options.warmup()))
                .with("warmup_runs", Integer.toString(warmUpRuns));
    }

    /**
     * Re-issues the plan's pushes in recorded order, each once the faulting thread it follows has
     * begun the touch it follows (and, when paced, at its time) and, for a push that overtook a
     * fault, once that fault has been read, recording each as a RESOLVE row.
     */
    private final class Pusher implements Runnable {
        final Thread thread;
        private final Userfaultfd uffd;
        private final UffdHandler handler;
        private final List<HandledRegion> handled;
        private final List<TracePolicy> policies;
        private final RecordRing ring;
        private final Toucher[] touchers;
        private volatile boolean finish;
        volatile Throwable failure;
        volatile long issued;

        Pusher(Userfaultfd uffd, UffdHandler handler, List<HandledRegion> handled, List<TracePolicy> policies, RecordRing ring,
               Toucher[] touchers) {
            this.touchers = touchers;
            this.uffd = uffd;
            this.handler = handler;
            this.handled = handled;
            this.policies = policies;
            this.ring = ring;
            this.thread = Thread.ofPlatform().name("faultline-replay-pusher").daemon().unstarted(this);
        }

        @Override
        public void run() {
            TraceEvent row = new TraceEvent();
            Libc.setTimerSlack(1); // its parks end when asked: the default 50 µs slack could send a push that trails its fault by 5 µs out 55 late
            long start = System.nanoTime();
            long anchor = start;
            try {
                for (Push p : plan.pushes()) {
                    while (!finish && !stop && System.nanoTime() - start < p.dueNanos()) {
                        LockSupport.parkNanos(Math.min(1_000_000, p.dueNanos() - (System.nanoTime() - start)));
                    }
                    if (p.afterThread() >= 0) {
                        Toucher t = touchers[p.afterThread()];
                        if (t.started() < p.afterTouches()) {
                            while (!finish && !stop && t.started() < p.afterTouches()) {
                                // parked, not spinning: the faulting and handler threads this push waits for need the CPUs
                                LockSupport.parkNanos(10_000);
                            }
                            anchor = System.nanoTime(); // about when the fault it follows began
                        }
                        long due = anchor + p.afterNanos();
                        while (!finish && !stop && System.nanoTime() < due) {
                            LockSupport.parkNanos(Math.min(1_000_000, due - System.nanoTime()));
                        }
                    }
                    if (p.takenOffset() >= 0) { // it overtook a fault: not before that fault is taken here too
                        TracePolicy policy = policies.get(p.region());
                        TouchClock clock = handled.get(p.region()).clock();
                        while (!finish && !stop && !policy.faultRead(p.takenOffset()) && clock.wake(p.takenOffset()) == 0) {
                            LockSupport.parkNanos(10_000);
                        }
                    }
                    if (stop) {
                        return;
                    }
                    HandledRegion h = handled.get(p.region());
                    long t0 = System.nanoTime();
                    long rc = policies.get(p.region()).push(uffd, h.region().address(), p);
                    long t1 = System.nanoTime();
                    issued++;
                    if (ring != null) {
                        row.clear();
                        row.seq = handler.nextSeq();
                        row.kind = EventKind.RESOLVE;
                        row.region = p.region();
                        row.offset = p.offset();
                        row.address = h.region().address() + p.offset();
                        row.ioctl = p.op();
                        row.resolveOffset = p.offset();
                        row.resolveLength = p.length();
                        row.resolveMode = p.mode();
                        row.result = rc < 0 ? (int) rc : 0;
                        row.tResolveStart = t0;
                        row.tResolveEnd = t1;
                        ring.offer(row);
                    }
                }
            } catch (Throwable t) {
                failure = t;
            }
        }

        /**
         * The touches have ended: the pushes still waiting go at once (no fault is left for them to
         * trail, and every run issues them all), then the thread ends; waits for it.
         */
        void finish() {
            finish = true;
            LockSupport.unpark(thread);
            try {
                thread.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
