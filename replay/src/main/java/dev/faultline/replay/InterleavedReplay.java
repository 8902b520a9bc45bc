package dev.faultline.replay;

import dev.faultline.core.trace.OutputFile;
import dev.faultline.analysis.Report;
import dev.faultline.core.region.SystemMemory;
import dev.faultline.replay.plan.ReplayPlan;
import dev.faultline.replay.plan.ReplayPlanner;
import org.HdrHistogram.Histogram;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Replays one trace in several variants (another backend, ioctl, delay, handler threads or wait)
 * as an A/B benchmark: one measured run of each variant at a time, interleaved A, B, C, then B, C,
 * A, then C, A, B …, so that whatever drifts on a shared machine falls on every variant alike and
 * no variant always follows the same one. Before each turn the memory the variant will need is
 * written once and freed ({@link SystemMemory#warm}), so every variant starts from pages the
 * system has just handed out, and each run has its own warm-up runs. Each variant's runs are then
 * joined ({@link ResultsMerge}) into one results file, ready for {@code faultline compare}.
 *
 * <p>A variant this machine cannot replay (the kernel refuses its combination, too few huge
 * pages) is refused before anything runs, with its reason; one that fails later keeps its reason
 * too; the others go on in both cases.
 */
public final class InterleavedReplay {
    /** One variant: what it is called (in file names and output) and how it replays. {@code options.runs()} is ignored. */
    public record Variant(String label, ReplayOptions options) {
    }

    /** Progress of the run under way: which variant, which round (1-based) of how many, and the runner's own report. */
    public record Progress(String variant, int round, int rounds, ReplayRunner.Progress run) {
    }

    /** What became of one variant. */
    public static final class Side {
        private final Variant variant;
        private final List<Path> runFiles = new ArrayList<>();
        private final List<RunResult> runs = new ArrayList<>();
        private final List<Histogram> latencies = new ArrayList<>();
        private ReplayPlan plan;
        private String failure;
        private Path results;

        Side(Variant variant) {
            this.variant = variant;
        }

        public Variant variant() {
            return variant;
        }

        /** The plan it replayed (null if planning failed). */
        public ReplayPlan plan() {
            return plan;
        }

        /** Its measured runs, in order. */
        public List<RunResult> runs() {
            return List.copyOf(runs);
        }

        /** Fault latency (t_wake - t_fault) of each measured run, null for a run without faults. */
        public List<Histogram> latencies() {
            return java.util.Collections.unmodifiableList(latencies);
        }

        /** Why it stopped, or null if it did every run. */
        public String failure() {
            return failure;
        }

        /** Its joined results file, or null (none asked for, or no run finished). */
        public Path results() {
            return results;
        }
    }

    private final Path trace;
    private final List<Side> sides = new ArrayList<>();
    private final int rounds;
    private volatile ReplayRunner current;
    private volatile boolean stop;

    /**
     * @param trace    the trace every variant replays
     * @param variants at least two, with distinct labels
     * @param rounds   measured runs per variant
     */
    public InterleavedReplay(Path trace, List<Variant> variants, int rounds) {
        if (variants.size() < 2) {
            throw new IllegalArgumentException("an interleaved replay needs two variants or more, not " + variants.size());
        }
        if (variants.stream().map(Variant::label).distinct().count() != variants.size()) {
            throw new IllegalArgumentException("variant labels repeat: " + variants.stream().map(Variant::label).toList());
        }
        if (rounds < 1) {
            throw new IllegalArgumentException("at least one run per variant, not " + rounds);
        }
        this.trace = trace;
        this.rounds = rounds;
        for (Variant v : variants) {
            sides.add(new Side(v));
        }
    }

    /** The variants, in the order given; each says how it ended once {@link #run} has returned. */
    public List<Side> sides() {
        return List.copyOf(sides);
    }

    /** Stops the run under way and every later one; {@link #run} then throws. */
    public void stop() {
        stop = true;
        ReplayRunner r = current;
        if (r != null) {
            r.stop();
        }
    }

    /**
     * Plans and checks every variant, then runs the rounds and joins each variant's runs.
     *
     * @param output   where a variant's results go (null for none kept), from its label
     * @param command  the command line, for the results' metadata
     * @param refused  told of each variant dropped, with its reason, when it is dropped
     * @param progress called about once a second
     * @throws ReplayException if no variant can be replayed, or the replay was stopped (no results file is left then)
     */
    public void run(java.util.function.Function<String, Path> output, String command, Consumer<Side> refused,
                    Consumer<Progress> progress) throws IOException {
        for (Side s : sides) {
            try {
                s.plan = ReplayPlanner.plan(trace, s.variant.options());
                new ReplayRunner(s.plan, single(s.variant.options())).check();
            } catch (ReplayException e) {
                drop(s, e.getMessage(), refused);
            }
        }
        if (sides.stream().allMatch(s -> s.failure != null)) {
            throw new ReplayException("no variant can be replayed here: " + String.join("; ",
                    sides.stream().map(s -> s.variant.label() + ": " + s.failure).toList()));
        }
        Path work = Files.createTempDirectory("faultline-variants-");
        try {
            for (int round = 0; round < rounds; round++) {
                for (int k = 0; k < sides.size(); k++) {
                    Side s = sides.get((round + k) % sides.size());
                    if (s.failure == null) {
                        turn(s, round, work, command, refused, progress);
                    }
                    if (stop) {
                        throw new ReplayException("stopped in round " + (round + 1) + " of " + rounds + "; no results were written");
                    }
                }
            }
            if (output != null) {
                for (Side s : sides) {
                    if (!s.runFiles.isEmpty()) {
                        s.results = join(s, output.apply(s.variant.label()), command);
                    }
                }
            }
        } finally {
            Report.deleteTree(work);
        }
    }

    /** One measured run of {@code s}, with its warm-ups, into a run file of its own. */
    private void turn(Side s, int round, Path work, String command, Consumer<Side> refused, Consumer<Progress> progress)
            throws IOException {
        SystemMemory.warm(s.plan.residentBytes());
        ReplayRunner runner = new ReplayRunner(s.plan, single(s.variant.options()));
        current = runner;
        Path file = work.resolve(s.variant.label() + "-" + round + ".arrow");
        try {
            ReplayRunner.Result r = runner.run(file, command,
                    p -> progress.accept(new Progress(s.variant.label(), round + 1, rounds, p)));
            s.runFiles.add(file);
            s.runs.add(r.runs().getLast());
            s.latencies.add(r.runLatency(0));
        } catch (ReplayException e) {
            if (stop) {
                throw e;
            }
            drop(s, "run " + (round + 1) + " failed: " + e.getMessage(), refused);
        } finally {
            current = null;
        }
    }

    private static void drop(Side s, String why, Consumer<Side> refused) {
        s.failure = why;
        refused.accept(s);
    }

    private Path join(Side s, Path out, String command) throws IOException {
        Map<String, String> extra = new LinkedHashMap<>();
        extra.put("variant", s.variant.label());
        extra.put("interleaved_with", String.join(",", sides.stream().filter(o -> o != s).map(o -> o.variant.label()).toList()));
        extra.put("variants_command", command);
        OutputFile.keepPrevious(out);
        ResultsMerge.merge(s.runFiles, out, extra, s.variant.options().compression());
        return out;
    }

    /** The variant's options for one measured run. */
    private static ReplayOptions single(ReplayOptions o) {
        return o.toBuilder().runs(1, o.warmup()).build();
    }
}
