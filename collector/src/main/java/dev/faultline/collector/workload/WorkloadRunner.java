package dev.faultline.collector.workload;

import dev.faultline.collector.handler.HandledRegion;
import dev.faultline.collector.handler.PageSource;
import dev.faultline.collector.handler.ResolvePolicy;
import dev.faultline.collector.handler.UffdHandler;
import dev.faultline.collector.record.TouchClock;
import dev.faultline.collector.record.TraceRecorder;
import dev.faultline.collector.touch.TouchScript;
import dev.faultline.collector.touch.TouchRun;
import dev.faultline.collector.touch.Toucher;
import dev.faultline.core.probe.CapabilityProbe;
import dev.faultline.core.probe.ProbeCell;
import dev.faultline.core.region.Backend;
import dev.faultline.core.region.HugePages;
import dev.faultline.core.region.Region;
import dev.faultline.core.region.SystemMemory;
import dev.faultline.core.trace.ScratchFile;
import dev.faultline.core.trace.TraceHeader;
import dev.faultline.core.uffd.RegisterMode;
import dev.faultline.core.uffd.ResolveIoctl;
import dev.faultline.core.uffd.Userfaultfd;
import org.HdrHistogram.Histogram;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;

/**
 * Runs one built-in workload under the recording handler: maps the region, registers it, starts
 * the handler and the trace writer, lets the faulting threads touch their pages, then shuts
 * everything down in the order that leaves no thread hung and the trace finished.
 *
 * <p>Before any memory is mapped the run is checked: the spec, free huge pages or available
 * memory, and the kernel's answer for this backend × mode × ioctl (one probe cell, a real fault).
 * {@link #stop} (e.g. from a Ctrl-C hook) ends the touches early; the trace is still finished.
 */
public final class WorkloadRunner {
    /** One progress report: touches done, of how many, faults resolved, rows in the file, rows dropped, nanoseconds so far. */
    public record Progress(long touched, long touches, long faults, long flushed, long lost, long nanos) {
    }

    /** The most memory {@link #warmUp} faults in per run: 20,000 4K pages fit. */
    public static final long WARM_UP_BYTES = 256L << 20;
    /** {@link #warmUp} runs at most this many times. */
    static final int MAX_WARM_UPS = 5;

    private final WorkloadSpec spec;
    private volatile boolean stop;
    /** The recorder of the run under way, whose failure stops the touches at once; null when not recording. */
    private volatile TraceRecorder recording;
    private volatile WorkloadRunner warming;
    private int warmedPages;
    private int warmUpRuns;
    private boolean warmingUp; // this runner is another's warm-up: its run is not measured
    private boolean checked;

    public WorkloadRunner(WorkloadSpec spec) {
        this.spec = spec;
    }

    /**
     * Checks, before anything is mapped or written, that the run can work here: the spec, free huge
     * pages or available memory, and the kernel's answer for this backend × mode × ioctl (one probe
     * cell, proven by a real fault). {@link #run} calls it if the caller has not.
     *
     * @throws WorkloadException saying in one line why not
     */
    public void check() {
        spec.validate();
        checkMemory();
        RegisterMode mode = ResolvePolicy.modeOf(spec.resolve());
        ProbeCell cell = new CapabilityProbe().probe(spec.backend(), mode, spec.resolve());
        if (!cell.supported()) {
            throw new WorkloadException(spec.backend().label() + " cannot resolve " + mode + " faults with "
                    + spec.resolve() + " on this kernel: " + cell.detail() + " (faultline probe shows what can)");
        }
        checked = true;
    }

    /** Ends the touches early; {@link #run} then finishes the trace and returns. */
    public void stop() {
        stop = true;
        WorkloadRunner w = warming;
        if (w != null) {
            w.stop();
        }
    }

    /**
     * Warms the JIT up for {@link #run}: runs this workload's code over {@code pages} pages (at most
     * {@link #WARM_UP_BYTES}) of 4K memory of the same kind, recording into a temporary file that
     * is then deleted, and runs it again while the JIT was still busy during a run
     * ({@link TouchRun.Timing#jitBusy}; at most {@link #MAX_WARM_UPS} runs). It runs as fast as it
     * can whatever the workload's rate. A no-op for 0 pages.
     *
     * <p>Why: the measured run parks the JIT where it cannot disturb the faulting threads
     * ({@link TouchRun}), so code it has not compiled by then stays interpreted for the whole run;
     * and before the parking, the first run's faulting threads shared their CPU with the compiler
     * for all of a 50k-fault run (bpftrace: half their wake-ups preempted a compiler thread). 4K
     * pages because what is warmed is the Java code, which is the same for every page size: 128 2M
     * pages, all the budget allowed, left hugetlb2m COPY's hot path interpreted (p50 1.4x the
     * floor's); hugetlb memory warms on shmem, its 4K twin. If the twin cannot run the workload
     * here (the probe says no), the workload's own memory is used, within the budget.
     *
     * @return the pages warmed per run
     */
    public int warmUp(int pages) throws IOException {
        if (pages <= 0 || stop) {
            return 0;
        }
        WorkloadSpec warm = spec.withRate(0); // unpaced: it only has to run the code
        WorkloadRunner runner = null;
        if (spec.backend().isHugetlb()) {
            WorkloadSpec twin = warm.withBackend(Backend.SHMEM);
            WorkloadRunner r = new WorkloadRunner(twin.withPages((int) Math.min(pages, WARM_UP_BYTES / Backend.SHMEM.pageSize())));
            try {
                r.check();
                runner = r;
            } catch (WorkloadException e) {
                runner = null; // the twin cannot do it here: warm on the workload's own memory
            }
        }
        if (runner == null) {
            int n = warmPages(warm, pages);
            if (n <= 0) {
                return 0;
            }
            runner = new WorkloadRunner(warm.withPages(n));
            runner.checked = checked;
        }
        runner.warmingUp = true;
        try (ScratchFile file = ScratchFile.create()) {
            Path scratch = file.path();
            warming = runner;
            for (int i = 0; i < MAX_WARM_UPS && !stop; i++) { // !stop: a stop() that came before warming was set
                warmUpRuns = i + 1;
                RecordingSummary s = runner.run(scratch, "warm-up", p -> { });
                if (!new TouchRun.Timing(s.touchNanos(), s.jitNanos()).jitBusy()) {
                    break;
                }
            }
        } finally {
            warming = null;
        }
        warmedPages = warmUpRuns > 0 ? runner.spec.pages() : 0; // 0: stopped before it began
        return warmedPages;
    }

    private static int warmPages(WorkloadSpec spec, int pages) {
        return (int) Math.min(Math.min(pages, spec.pages()), WARM_UP_BYTES / spec.backend().pageSize());
    }

    /**
     * Runs the workload.
     *
     * @param out      the trace to write, or null to run with recording off
     * @param command  the command line, for the trace header
     * @param progress called about once a second on the calling thread
     * @throws WorkloadException if the run cannot start or the handler failed (the trace is finished either way)
     */
    public RecordingSummary run(Path out, String command, Consumer<Progress> progress) throws IOException {
        if (!checked) {
            check();
        }
        AccessPlan plan = AccessPlan.of(spec.kind(), spec.pages(), spec.threads(), spec.stride(), spec.seed());
        long pageSize = spec.backend().pageSize();
        try (PageSource source = spec.image() != null ? PageSource.image(spec.image(), pageSize)
                : PageSource.pattern(pageSize, 0x5a);
             ResolvePolicy policy = ResolvePolicy.of(spec.resolve(), source);
             Region region = Region.map(spec.backend(), spec.length())) {
            TouchClock clock = new TouchClock(spec.pages(), pageSize);
            HandledRegion handled = new HandledRegion(0, spec.kind().label(), region, policy, clock);
            List<HandledRegion> regions = List.of(handled);
            Userfaultfd uffd = Userfaultfd.open(UffdHandler.features(regions));
            UffdHandler handler;
            try {
                handler = new UffdHandler(uffd, regions, spec.handlerThreads(), spec.waitStrategy(), out == null ? 0 : spec.ringCapacity());
            } catch (RuntimeException e) {
                uffd.close();
                throw e;
            }
            TraceRecorder recorder = null;
            Toucher[] touchers = touchers(plan, region, clock, handler);
            TouchRun.Timing timing = new TouchRun.Timing(0, 0);
            try {
                if (out != null) {
                    recorder = new TraceRecorder(out, header(command, uffd.features(), handled, policy),
                            spec.compression(), handler.rings(), handler.clocks());
                    recording = recorder;
                }
                timing = touch(touchers, plan.touches(), handler, recorder, progress);
            } finally {
                handler.close(); // stops the handler threads and releases any toucher still on a fault
                if (recorder != null) {
                    recorder.touchersDone();
                    recorder.close("faults", Long.toString(handler.faults()), "touches", Long.toString(TouchRun.done(touchers)));
                }
            }
            Throwable failure = handler.failure();
            if (failure != null) {
                throw new WorkloadException("the handler failed: " + failure.getMessage()
                        + (out != null ? " (the trace up to then is in " + out + ")" : ""), failure);
            }
            Histogram latency = new Histogram(3);
            for (int p = 0; p < clock.pages(); p++) {
                long l = clock.latency(p);
                if (l >= 0) {
                    latency.recordValue(Math.max(1, l));
                }
            }
            return new RecordingSummary(out, handler.faults(), TouchRun.done(touchers), recorder == null ? 0 : recorder.written(),
                    recorder == null ? 0 : recorder.lost(), out == null ? 0 : Files.size(out), timing.nanos(), timing.jitNanos(), latency, stop);
        }
    }

    private boolean writingFailed() {
        TraceRecorder r = recording;
        return r != null && r.failed();
    }

    private Toucher[] touchers(AccessPlan plan, Region region, TouchClock clock, UffdHandler handler) {
        long interval = spec.rate() > 0 ? Math.max(1, spec.threads() * 1_000_000_000L / spec.rate()) : 0;
        Toucher[] touchers = new Toucher[plan.threads()];
        for (int t = 0; t < touchers.length; t++) {
            touchers[t] = new Toucher(TouchScript.of(plan.pages(t), spec.touch(), interval),
                    new long[] {region.address()}, new long[] {region.pageSize()}, new TouchClock[] {clock},
                    () -> stop || handler.failure() != null || writingFailed());
        }
        return touchers;
    }

    /** Runs the touchers to the end, reporting progress once a second; returns how long they took. */
    private TouchRun.Timing touch(Toucher[] touchers, long touches, UffdHandler handler, TraceRecorder recorder,
                       Consumer<Progress> progress) {
        return TouchRun.runAll(touchers, handler.cpus(), !warmingUp, () -> stop = true, nanos -> progress.accept(new Progress(
                TouchRun.done(touchers), touches, handler.faults(), recorder == null ? 0 : recorder.flushed(),
                recorder == null ? 0 : recorder.lost(), nanos)));
    }

    private TraceHeader header(String command, long features, HandledRegion region, ResolvePolicy policy) {
        return TraceHeader.now("in-process", command, features, List.of(region.info()))
                .with("workload", spec.kind().label())
                .with("resolve", policy.describe())
                .with("touch", spec.touch().label())
                .with("threads", Integer.toString(spec.threads()))
                .with("handler_threads", Integer.toString(spec.handlerThreads()))
                .with("wait", spec.waitStrategy().label())
                .with("pages", Integer.toString(spec.pages()))
                .with("seed", Long.toString(spec.seed()))
                .with("rate", spec.rate() == 0 ? "full" : Long.toString(spec.rate()))
                .with("warmup_pages", Integer.toString(warmedPages))
                .with("warmup_runs", Integer.toString(warmUpRuns));
    }

    private void checkMemory() {
        long page = spec.backend().pageSize();
        if (spec.backend().isHugetlb()) {
            long free = HugePages.free(page);
            long need = spec.pages() + 1L; // +1 for the probe's page
            if (free < need) {
                throw new WorkloadException(spec.pages() + " " + spec.backend().label() + " pages (+1 for the probe) need "
                        + need + " free huge pages, " + free + " are free; reserve them: " + HugePages.reserveHint(page, need));
            }
        } else {
            long need = spec.length() * (spec.resolve() == ResolveIoctl.MOVE ? 2 : 1);
            long available = SystemMemory.available();
            if (need > available * 9 / 10) {
                throw new WorkloadException(spec.pages() + " " + spec.backend().label() + " pages need "
                        + (need >> 20) + " MiB; only " + (available >> 20) + " MiB are available");
            }
        }
    }
}
