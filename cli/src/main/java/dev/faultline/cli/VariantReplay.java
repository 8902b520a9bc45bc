package dev.faultline.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.faultline.analysis.Analyzer;
import dev.faultline.analysis.By;
import dev.faultline.analysis.TraceAnalysis;
import dev.faultline.collector.handler.WaitStrategy;
import dev.faultline.core.region.Backend;
import dev.faultline.core.uffd.ResolveIoctl;
import dev.faultline.replay.Delay;
import dev.faultline.replay.InterleavedReplay;
import dev.faultline.replay.ReplayOptions;
import dev.faultline.replay.RunResult;
import org.HdrHistogram.Histogram;
import picocli.CommandLine;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

/**
 * {@code faultline replay TRACE --backend shmem,anon …}: the variants the comma lists make (every
 * combination), replayed interleaved by {@link InterleavedReplay}, one results file each
 * ({@code OUT.LABEL.arrow}), and a table of them side by side.
 */
final class VariantReplay {
    /** Variants at most: every one costs a run per round. */
    static final int MAX_VARIANTS = 16;

    private VariantReplay() {
    }

    /**
     * The variants of {@code base} the options' lists make, labelled by what varies (shmem,
     * shmem-continue, delay20us …); one, labelled by nothing, when no option holds a list.
     */
    static List<InterleavedReplay.Variant> variants(CommandLine cl, ReplayOptions base, String backends, String resolves,
                                                    String delays, String handlerThreads, String waits) {
        // each word is parsed here, once, and the choices capture what it parsed to, never cl: a lambda that captured
        // the CommandLine would load picocli's 72 KB CommandLine class in a guest, which has none (GuestReplay)
        List<List<Choice>> dims = new ArrayList<>();
        List<Choice> choices = new ArrayList<>();
        for (String w : items(cl, backends, "--backend")) {
            Backend b = w == null ? null : backend(cl, w);
            choices.add(new Choice(w, w, o -> o.backend(b)));
        }
        dims.add(choices);
        choices = new ArrayList<>();
        for (String w : items(cl, resolves, "--resolve")) {
            ResolveIoctl r = w == null ? null : Options.resolveOp(cl, w);
            choices.add(new Choice(w, w, o -> o.resolve(r)));
        }
        dims.add(choices);
        choices = new ArrayList<>();
        for (String w : items(cl, delays, "--delay")) {
            Delay d = w == null ? null : delay(cl, w);
            choices.add(new Choice("delay" + w, w, o -> o.delay(d)));
        }
        dims.add(choices);
        choices = new ArrayList<>();
        for (String w : items(cl, handlerThreads, "--handler-threads")) {
            int n = w == null ? 0 : threads(cl, w);
            choices.add(new Choice(w + "handlers", w, o -> o.handlerThreads(n)));
        }
        dims.add(choices);
        choices = new ArrayList<>();
        for (String w : items(cl, waits, "--wait")) {
            WaitStrategy ws = w == null ? null : Options.parse(cl, WaitStrategy.class, w, "--wait");
            choices.add(new Choice(w, w, o -> o.waitStrategy(ws)));
        }
        dims.add(choices);
        long count = dims.stream().mapToLong(List::size).reduce(1, (x, y) -> x * y);
        if (count > MAX_VARIANTS) {
            throw Options.usage(cl, "the lists make " + count + " variants; at most " + MAX_VARIANTS
                    + " (every variant costs a run per round)");
        }
        List<InterleavedReplay.Variant> out = new ArrayList<>();
        out.add(new InterleavedReplay.Variant("", base));
        for (List<Choice> dim : dims) {
            List<InterleavedReplay.Variant> next = new ArrayList<>();
            for (InterleavedReplay.Variant v : out) {
                for (Choice c : dim) {
                    String label = dim.size() == 1 ? v.label() : v.label().isEmpty() ? c.label : v.label() + "-" + c.label;
                    next.add(new InterleavedReplay.Variant(label, c.word == null ? v.options()
                            : c.apply.apply(v.options().toBuilder()).build()));
                }
            }
            out = next;
        }
        return out;
    }

    /** One value of an option's list: its part of a variant's label, the word given (null: the option was not), what it sets. */
    private record Choice(String label, String word, java.util.function.UnaryOperator<ReplayOptions.Builder> apply) {
    }

    private static Backend backend(CommandLine cl, String word) {
        try {
            return Backend.parse(word);
        } catch (IllegalArgumentException e) {
            throw Options.usage(cl, "--backend: " + e.getMessage());
        }
    }

    private static int threads(CommandLine cl, String word) {
        try {
            return Integer.parseInt(word);
        } catch (NumberFormatException e) {
            throw Options.usage(cl, "--handler-threads: '" + word + "' is not a number of threads");
        }
    }

    /** The items of a comma list (one null item for an option not given), refusing empty and repeated ones. */
    private static List<String> items(CommandLine cl, String list, String option) {
        if (list == null) {
            List<String> none = new ArrayList<>();
            none.add(null);
            return none;
        }
        LinkedHashSet<String> seen = new LinkedHashSet<>();
        for (String item : list.split(",", -1)) {
            String w = item.trim();
            if (w.isEmpty()) {
                throw Options.usage(cl, option + ": an empty item in '" + list + "'");
            }
            if (!seen.add(w.toLowerCase(Locale.ROOT))) {
                throw Options.usage(cl, option + ": '" + w + "' is listed twice");
            }
        }
        return List.copyOf(seen);
    }

    private static Delay delay(CommandLine cl, String word) {
        Delay.Kind fromTrace = Delay.kindOf(word);
        return fromTrace != null ? new Delay(fromTrace, 0) : Delay.fixed(Options.durationNanos(cl, word, "--delay"));
    }

    /**
     * Runs the variants and prints them side by side.
     *
     * @param output the results file the variants' labels are put into (null: keep none)
     * @return 0 when every variant did every run, 1 when one was refused or failed
     */
    static int run(Path trace, List<InterleavedReplay.Variant> variants, int runs, Path output, boolean json, String command,
                   PrintWriter out, PrintWriter err) throws Exception {
        InterleavedReplay replay = new InterleavedReplay(trace, variants, runs);
        err.printf(Locale.ROOT, "faultline replay: %d variants (%s), %d interleaved run%s each%n", variants.size(),
                String.join(", ", variants.stream().map(InterleavedReplay.Variant::label).toList()), runs, runs == 1 ? "" : "s");
        ProgressLine line = new ProgressLine(err);
        Function<String, Path> files = output == null ? null : label -> fileFor(output, label);
        try {
            StopOnSignal.run("faultline-replay", replay::stop, () -> {
                replay.run(files, command, s -> {
                    line.clear();
                    err.println("faultline replay: " + s.variant().label() + ": " + s.failure());
                }, p -> line.show(String.format(Locale.ROOT, "%s  round %d/%d  %s  %3.0f%%  %,d faults", p.variant(), p.round(), p.rounds(),
                        p.run().run() < 0 ? "warm-up" : "measured", 100.0 * p.run().touched() / Math.max(1, p.run().touches()),
                        p.run().faults())));
                return null;
            });
        } finally {
            line.clear();
        }
        if (json) {
            out.println(new ObjectMapper().writeValueAsString(toJson(replay.sides())));
        } else {
            print(replay.sides(), runs, out);
        }
        out.flush();
        return replay.sides().stream().anyMatch(s -> s.failure() != null) ? 1 : 0;
    }

    /** OUT.LABEL.arrow beside OUT. */
    static Path fileFor(Path output, String label) {
        String name = output.getFileName().toString();
        String stem = name.endsWith(".arrow") ? name.substring(0, name.length() - ".arrow".length()) : name;
        return output.toAbsolutePath().resolveSibling(stem + "." + label + ".arrow");
    }

    private static void print(List<InterleavedReplay.Side> sides, int runs, PrintWriter o) throws IOException {
        o.printf(Locale.ROOT, "replayed %d variants, %d interleaved run%s each%n", sides.size(), runs, runs == 1 ? "" : "s");
        o.printf(Locale.ROOT, "  %-22s %10s %12s %10s %10s  %s%n", "variant", "faults", "faults/s", "p50", "p99", "p50 per run");
        for (InterleavedReplay.Side s : sides) {
            if (s.failure() != null && s.runs().isEmpty()) {
                o.printf(Locale.ROOT, "  %-22s %s%n", s.variant().label(), s.failure());
                continue;
            }
            Histogram all = new Histogram(3);
            long faults = 0;
            List<String> perRun = new ArrayList<>();
            for (int i = 0; i < s.runs().size(); i++) {
                Histogram h = s.latencies().get(i);
                perRun.add(h == null ? "-" : Units.nanos(h.getValueAtPercentile(50)));
                if (h != null) {
                    all.add(h);
                }
                faults += s.runs().get(i).faults();
            }
            o.printf(Locale.ROOT, "  %-22s %,10d %,12.0f %10s %10s  %s%n", s.variant().label(), faults, medianFaultsPerSecond(s),
                    all.getTotalCount() == 0 ? "-" : Units.nanos(all.getValueAtPercentile(50)),
                    all.getTotalCount() == 0 ? "-" : Units.nanos(all.getValueAtPercentile(99)), String.join(" ", perRun));
            if (s.failure() != null) {
                o.println("    " + s.failure());
            }
        }
        o.println("  (latency = t_wake - t_fault over each variant's measured runs; faults/s is the median run's)");
        List<InterleavedReplay.Side> done = sides.stream().filter(s -> s.results() != null).toList();
        for (InterleavedReplay.Side s : done) {
            TraceAnalysis a = Analyzer.analyze(s.results(), By.NONE);
            o.printf(Locale.ROOT, "  results  %-22s %s  (%s)%n", s.variant().label(), s.results(),
                    String.join(", ", a.groups().stream().map(g -> g.key().label()).toList()));
        }
        if (done.size() >= 2) {
            o.println("  compare: faultline compare " + done.get(0).results() + " " + done.get(1).results());
        }
    }

    /** The faults/s of the variant's median measured run (the upper of the middle two for an even count); 0 without runs. */
    static double medianFaultsPerSecond(InterleavedReplay.Side s) {
        double[] fps = s.runs().stream().mapToDouble(RunResult::faultsPerSecond).sorted().toArray();
        return fps.length == 0 ? 0 : fps[fps.length / 2];
    }

    private static Map<String, Object> toJson(List<InterleavedReplay.Side> sides) {
        List<Object> list = new ArrayList<>();
        for (InterleavedReplay.Side s : sides) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("variant", s.variant().label());
            ReplayOptions o = s.variant().options();
            m.put("backend", o.backend() == null ? null : o.backend().label());
            m.put("resolve", o.resolve() == null ? null : o.resolve().name().toLowerCase(Locale.ROOT));
            m.put("delay", o.delay().label());
            m.put("handler_threads", o.handlerThreads());
            m.put("wait", o.waitStrategy().name().toLowerCase(Locale.ROOT));
            m.put("failure", s.failure());
            m.put("results", s.results() == null ? null : s.results().toString());
            List<Object> runs = new ArrayList<>();
            for (int i = 0; i < s.runs().size(); i++) {
                RunResult r = s.runs().get(i);
                Histogram h = s.latencies().get(i);
                Map<String, Object> j = new LinkedHashMap<>();
                j.put("faults", r.faults());
                j.put("faults_per_s", Math.round(r.faultsPerSecond()));
                j.put("p50_ns", h == null ? null : h.getValueAtPercentile(50));
                j.put("p99_ns", h == null ? null : h.getValueAtPercentile(99));
                runs.add(j);
            }
            m.put("runs", runs);
            list.add(m);
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("variants", list);
        return out;
    }
}
