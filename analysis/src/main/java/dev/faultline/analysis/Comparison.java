package dev.faultline.analysis;

import org.HdrHistogram.Histogram;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Base against candidate, per group (ioctl × page size × backend): the ratio candidate / base of
 * p50, p90 and p99 with a 95% bootstrap interval, and a verdict against a relative threshold.
 * When each side has one group and they differ (the same trace replayed on another backend, page
 * size or ioctl), those two are compared with each other; {@link Settings#match()} pairs groups on
 * chosen dimensions only. Beside the per-fault percentiles each group has its whole-run figures
 * ({@link PopulateChange}: MiB populated, time to populate): a pair that differs in page size is
 * gated on those by default, since a 2M fault is slower than a 4K one by design.
 *
 * <p>With at least two runs on each side (replay {@code --runs K}) the bootstrap resamples runs —
 * each run's percentile, then the median over the resampled runs — so run-to-run noise is in the
 * interval, as in Firecracker's A/B tool. With one run a side it resamples faults (the order
 * statistic of a resample is drawn from its Beta distribution, normal-approximated, and read off
 * the histogram), which leaves run-to-run noise out: {@link GroupComparison#runs()} says which.
 *
 * <p>A percentile regresses when its whole interval lies above 1 + threshold (the change is both
 * real and as large as the threshold); it improves when its whole interval lies below
 * 1 - threshold. A group's verdict comes from the percentiles it is gated on (p50 by default):
 * back-to-back 5-run replays of one trace on this shared 2-core machine moved p50 by up to 10%,
 * p90 by up to 13% and p99 by up to 25%, beyond what resampling runs within one replay shows, so
 * gating on the tail needs a quiet machine. Every percentile keeps its own verdict.
 */
public final class Comparison {
    /** Bootstrap resamples per percentile. */
    public static final int RESAMPLES = 2000;
    static final double[] PERCENTILES = {50, 90, 99};

    /** What a group or a percentile came to. */
    public enum Verdict {
        REGRESSION, IMPROVEMENT, NO_CHANGE;

        public String label() {
            return name().toLowerCase(java.util.Locale.ROOT).replace('_', ' ');
        }
    }

    /** One percentile of one group: base and candidate values (ns), the ratio and its interval. */
    public record PercentileChange(double percentile, double base, double candidate, double ratio, double low, double high,
                                   Verdict verdict) {
    }

    /**
     * One group's whole-run figures: the median over runs of the MiB its faults populated and of the
     * time from its first fault to its last resolution (the time to populate its working set), the
     * ratio of those times with a 95% interval (runs resampled) and a verdict. Page sizes compare
     * honestly here: a 2M fault is slower than a 4K one but populates 512 times the memory.
     *
     * <p>With one run on a side there is nothing to resample: {@code low} and {@code high} are NaN
     * and the verdict rests on the ratio alone.
     */
    public record PopulateChange(double baseMib, double candidateMib, double baseNanos, double candidateNanos, double ratio,
                                 double low, double high, Verdict verdict) {
        /** The base's time per MiB populated, ns. */
        public double baseNanosPerMib() {
            return baseMib > 0 ? baseNanos / baseMib : 0;
        }

        /** The candidate's time per MiB populated, ns. */
        public double candidateNanosPerMib() {
            return candidateMib > 0 ? candidateNanos / candidateMib : 0;
        }

        /** Whether the interval is known (both sides had several runs). */
        public boolean resampled() {
            return !Double.isNaN(low);
        }
    }

    /**
     * One group's comparison; {@code changes} is empty and {@code verdict} NO_CHANGE when the group
     * is on one side only ({@code onlyIn} then names the side).
     *
     * @param runs     "runs" when runs were resampled, "faults" when faults were
     * @param populate the whole-run figures, or null where the files have no fault times (JMH results, a missing side)
     * @param gatedOn  what decided the verdict, e.g. "p50" or "populate"
     */
    public record GroupComparison(GroupKey key, long baseFaults, long candidateFaults, List<PercentileChange> changes,
                                  PopulateChange populate, Verdict verdict, String runs, String gatedOn, String onlyIn,
                                  Histogram base, Histogram candidate) {
    }

    /** A dimension of a group that {@code --match} pairs groups on. */
    public enum Dimension {
        IOCTL("ioctl"), PAGE("page"), BACKEND("backend");

        private final String optionName;

        Dimension(String optionName) {
            this.optionName = optionName;
        }

        /** As {@code --match} spells it. */
        public String optionName() {
            return optionName;
        }

        /** The dimension called {@code name}, or null. */
        public static Dimension named(String name) {
            for (Dimension d : values()) {
                if (d.optionName.equalsIgnoreCase(name)) {
                    return d;
                }
            }
            return null;
        }
    }

    /** The whole-run figure a gate can name beside the percentiles. */
    public static final String POPULATE = "populate";

    /**
     * How two files are compared.
     *
     * @param threshold the relative change that counts (0.05 for 5%)
     * @param seed      the bootstrap's seed
     * @param gate      what decides a group's verdict: "p50", "p90", "p99", {@link #POPULATE}; null for the default,
     *                  p50, or populate when the paired groups differ in page size
     * @param match     the dimensions groups are paired on (the others are ignored, their groups pooled); null for the
     *                  default: every dimension, and the sole group of each side paired when they differ
     */
    public record Settings(double threshold, long seed, java.util.Set<String> gate, java.util.Set<Dimension> match) {
        /** The defaults at {@code threshold}. */
        public static Settings of(double threshold) {
            return new Settings(threshold, 1, null, null);
        }
    }

    private Comparison() {
    }

    /** Compares every group of the two analyses, each on the latency it reports, with the default gate and pairing. */
    public static List<GroupComparison> compare(TraceAnalysis base, TraceAnalysis candidate, double threshold, long seed) {
        return compare(base.runs(), candidate.runs(), base.spans(), candidate.spans(), new Settings(threshold, seed, null, null));
    }

    /**
     * Compares every group on one latency definition for both sides ({@link #commonSource} picks one
     * both have), pairing and gating them as {@code settings} say.
     */
    public static List<GroupComparison> compare(TraceAnalysis base, TraceAnalysis candidate, LatencySource source, Settings settings) {
        return compare(base.runs(source), candidate.runs(source), base.spans(), candidate.spans(), settings);
    }

    /**
     * The latency definition two files compare on: {@code asked} if both have it for every timed
     * group, else (asked null) the first that both have, in {@link LatencySource} order.
     *
     * @throws IllegalArgumentException saying in one line what each side has, when they share none (or not the one asked)
     */
    public static LatencySource commonSource(TraceAnalysis base, TraceAnalysis candidate, LatencySource asked) {
        List<LatencySource> b = base.sources();
        List<LatencySource> c = candidate.sources();
        if (b.isEmpty() || c.isEmpty()) { // a side without timed faults: nothing to agree on, the outcome says so
            return asked != null ? asked : (b.isEmpty() ? c : b).stream().findFirst().orElse(LatencySource.END_TO_END);
        }
        for (LatencySource s : LatencySource.values()) {
            if ((asked == null || asked == s) && b.contains(s) && c.contains(s)) {
                return s;
            }
        }
        throw new IllegalArgumentException((asked == null ? "the two sides have no latency definition in common"
                : "not both sides have " + asked.description()) + ": the base has " + words(b) + ", the candidate " + words(c));
    }

    private static String words(List<LatencySource> sources) {
        return sources.stream().map(LatencySource::shortName).collect(java.util.stream.Collectors.joining(", "));
    }

    /** Groups of the base and of the candidate compared with each other, shown as {@code key}. */
    private record Pairing(GroupKey key, List<GroupKey> base, List<GroupKey> candidate) {
    }

    private static List<GroupComparison> compare(Map<GroupKey, Map<Integer, Histogram>> b, Map<GroupKey, Map<Integer, Histogram>> c,
                                                 Map<GroupKey, Map<Integer, RunSpan>> bSpans, Map<GroupKey, Map<Integer, RunSpan>> cSpans,
                                                 Settings settings) {
        SplittableRandom random = new SplittableRandom(settings.seed());
        List<GroupComparison> out = new ArrayList<>();
        for (Pairing pairing : pairings(b, c, settings.match())) {
            Map<Integer, Histogram> br = mergedRuns(b, pairing.base());
            Map<Integer, Histogram> cr = mergedRuns(c, pairing.candidate());
            Histogram bAll = merged(br);
            Histogram cAll = merged(cr);
            GroupKey k = pairing.key();
            if (bAll.getTotalCount() == 0 || cAll.getTotalCount() == 0) {
                out.add(new GroupComparison(k, bAll.getTotalCount(), cAll.getTotalCount(), List.of(), null, Verdict.NO_CHANGE,
                        "", "", bAll.getTotalCount() == 0 ? "candidate" : "base", bAll, cAll));
                continue;
            }
            java.util.Set<String> gate = settings.gate() != null ? settings.gate()
                    : java.util.Set.of(pageSizes(pairing.base()).equals(pageSizes(pairing.candidate())) ? "p50" : POPULATE);
            boolean byRuns = br.size() >= 2 && cr.size() >= 2;
            List<PercentileChange> changes = new ArrayList<>();
            Verdict group = Verdict.NO_CHANGE;
            List<String> gatedOn = new ArrayList<>();
            for (double p : PERCENTILES) {
                double baseValue = byRuns ? medianOfRuns(br, p) : bAll.getValueAtPercentile(p);
                double candValue = byRuns ? medianOfRuns(cr, p) : cAll.getValueAtPercentile(p);
                double ratio = candValue / Math.max(1, baseValue);
                double[] ratios = new double[RESAMPLES];
                double[] bRuns = byRuns ? valuesOfRuns(br, p) : null; // read once: a fleet side has thousands of runs
                double[] cRuns = byRuns ? valuesOfRuns(cr, p) : null;
                for (int i = 0; i < RESAMPLES; i++) {
                    double bs = byRuns ? resampleRuns(bRuns, random) : resampleFaults(bAll, p, random);
                    double cs = byRuns ? resampleRuns(cRuns, random) : resampleFaults(cAll, p, random);
                    ratios[i] = cs / Math.max(1, bs);
                }
                java.util.Arrays.sort(ratios);
                double low = ratios[(int) (RESAMPLES * 0.025)];
                double high = ratios[(int) (RESAMPLES * 0.975) - 1];
                Verdict v = verdict(low, high, settings.threshold());
                changes.add(new PercentileChange(p, baseValue, candValue, ratio, low, high, v));
                String name = String.format(java.util.Locale.ROOT, "p%.0f", p);
                if (gate.contains(name)) {
                    gatedOn.add(name);
                    group = worse(group, v);
                }
            }
            PopulateChange populate = populate(mergedSpans(bSpans, pairing.base()), mergedSpans(cSpans, pairing.candidate()),
                    settings.threshold(), random);
            if (populate != null && gate.contains(POPULATE)) {
                gatedOn.add(POPULATE);
                group = worse(group, populate.verdict());
            }
            out.add(new GroupComparison(k, bAll.getTotalCount(), cAll.getTotalCount(), List.copyOf(changes), populate, group,
                    byRuns ? br.size() + " vs " + cr.size() + " runs" : "faults (one run a side: run-to-run noise not included)",
                    String.join(", ", gatedOn), null, bAll, cAll));
        }
        return out;
    }

    private static Verdict verdict(double low, double high, double threshold) {
        return low > 1 + threshold ? Verdict.REGRESSION : high < 1 - threshold ? Verdict.IMPROVEMENT : Verdict.NO_CHANGE;
    }

    /** A group's verdict so far, with one more gated figure's: a regression wins, then an improvement. */
    private static Verdict worse(Verdict group, Verdict v) {
        if (v == Verdict.REGRESSION) {
            return Verdict.REGRESSION;
        }
        return v == Verdict.IMPROVEMENT && group == Verdict.NO_CHANGE ? Verdict.IMPROVEMENT : group;
    }

    private static java.util.Set<Long> pageSizes(List<GroupKey> keys) {
        return keys.stream().map(GroupKey::pageSize).collect(java.util.stream.Collectors.toSet());
    }

    /**
     * The whole-run figures of both sides: medians over runs of MiB and of the time to populate,
     * their ratio and, with two runs or more a side, a bootstrap over runs; null when a side has no
     * run with both ends of its time known.
     */
    private static PopulateChange populate(Map<Integer, RunSpan> b, Map<Integer, RunSpan> c, double threshold, SplittableRandom random) {
        double[] bt = RunSpan.sorted(b.values(), RunSpan::nanos);
        double[] ct = RunSpan.sorted(c.values(), RunSpan::nanos);
        if (bt.length == 0 || ct.length == 0) {
            return null;
        }
        double bMib = RunSpan.median(b.values(), RunSpan::mib);
        double cMib = RunSpan.median(c.values(), RunSpan::mib);
        double ratio = median(ct) / median(bt);
        if (bt.length < 2 || ct.length < 2) { // nothing to resample: the ratio alone is its own interval
            return new PopulateChange(bMib, cMib, median(bt), median(ct), ratio, Double.NaN, Double.NaN, verdict(ratio, ratio, threshold));
        }
        double[] ratios = new double[RESAMPLES];
        for (int i = 0; i < RESAMPLES; i++) {
            ratios[i] = resampleMedian(ct, random) / resampleMedian(bt, random);
        }
        java.util.Arrays.sort(ratios);
        double low = ratios[(int) (RESAMPLES * 0.025)];
        double high = ratios[(int) (RESAMPLES * 0.975) - 1];
        return new PopulateChange(bMib, cMib, median(bt), median(ct), ratio, low, high, verdict(low, high, threshold));
    }

    private static double resampleMedian(double[] values, SplittableRandom random) {
        double[] v = new double[values.length];
        for (int i = 0; i < v.length; i++) {
            v[i] = values[random.nextInt(values.length)];
        }
        java.util.Arrays.sort(v);
        return median(v);
    }

    /**
     * Which groups compare with which. By default every group with itself, and the sole group of
     * each side with the other's when they differ (a replay of the same trace on another backend,
     * page size or ioctl). With {@code match}, groups pair when they agree on those dimensions; the
     * groups of one side that agree on them are pooled.
     */
    private static List<Pairing> pairings(Map<GroupKey, Map<Integer, Histogram>> b, Map<GroupKey, Map<Integer, Histogram>> c,
                                          java.util.Set<Dimension> match) {
        if (match == null) {
            GroupKey[] pair = soleGroups(b, c);
            if (pair != null) {
                return List.of(new Pairing(shown(List.of(pair[0]), List.of(pair[1])), List.of(pair[0]), List.of(pair[1])));
            }
            TreeSet<GroupKey> keys = new TreeSet<>(b.keySet());
            keys.addAll(c.keySet());
            return keys.stream().map(k -> new Pairing(k, List.of(k), List.of(k))).toList();
        }
        Map<GroupKey, List<GroupKey>> bBy = byProjection(b.keySet(), match);
        Map<GroupKey, List<GroupKey>> cBy = byProjection(c.keySet(), match);
        TreeSet<GroupKey> projections = new TreeSet<>(bBy.keySet());
        projections.addAll(cBy.keySet());
        List<Pairing> out = new ArrayList<>();
        for (GroupKey p : projections) {
            List<GroupKey> bk = bBy.getOrDefault(p, List.of());
            List<GroupKey> ck = cBy.getOrDefault(p, List.of());
            out.add(new Pairing(shown(bk, ck), bk, ck));
        }
        return out;
    }

    /** Keys grouped by their values on {@code match} (the other dimensions blanked), each list in key order. */
    private static Map<GroupKey, List<GroupKey>> byProjection(java.util.Set<GroupKey> keys, java.util.Set<Dimension> match) {
        Map<GroupKey, List<GroupKey>> out = new TreeMap<>();
        for (GroupKey k : new TreeSet<>(keys)) {
            GroupKey p = new GroupKey(match.contains(Dimension.IOCTL) ? k.ioctl() : "", match.contains(Dimension.PAGE) ? k.pageSize() : 0,
                    match.contains(Dimension.BACKEND) ? k.backend() : "", "");
            out.computeIfAbsent(p, x -> new ArrayList<>()).add(k);
        }
        return out;
    }

    /**
     * The key a pairing is shown as: the group itself when both sides have just it, else the base's
     * first group with the rest of the label ({@code COPY 4K anon + COPY 4K shmem vs COPY 2M hugetlb},
     * or {@code COPY 4K anon + COPY 4K shmem} when both sides have the same groups) as its part.
     */
    private static GroupKey shown(List<GroupKey> b, List<GroupKey> c) {
        if (b.size() == 1 && (c.isEmpty() || c.equals(b)) || b.isEmpty() && c.size() == 1) {
            return b.isEmpty() ? c.getFirst() : b.getFirst();
        }
        List<GroupKey> first = b.isEmpty() ? c : b;
        StringBuilder part = new StringBuilder();
        for (GroupKey k : first.subList(1, first.size())) {
            part.append("+ ").append(k.label()).append(' ');
        }
        if (!b.isEmpty() && !c.isEmpty() && !b.equals(c)) {
            part.append("vs ").append(String.join(" + ", c.stream().map(GroupKey::label).toList()));
        }
        return new GroupKey(first.getFirst().ioctl(), first.getFirst().pageSize(), first.getFirst().backend(), part.toString().strip());
    }

    /** The runs of every group in {@code keys}, each run's histograms added (copies: the analysis is left as it was). */
    private static Map<Integer, Histogram> mergedRuns(Map<GroupKey, Map<Integer, Histogram>> runs, List<GroupKey> keys) {
        if (keys.size() == 1) {
            return runs.getOrDefault(keys.getFirst(), new TreeMap<>());
        }
        Map<Integer, Histogram> out = new TreeMap<>();
        for (GroupKey k : keys) {
            runs.getOrDefault(k, Map.of()).forEach((run, h) -> out.computeIfAbsent(run, x -> new Histogram(3)).add(h));
        }
        return out;
    }

    private static Map<Integer, RunSpan> mergedSpans(Map<GroupKey, Map<Integer, RunSpan>> spans, List<GroupKey> keys) {
        Map<Integer, RunSpan> out = new TreeMap<>();
        for (GroupKey k : keys) {
            spans.getOrDefault(k, Map.of()).forEach((run, s) -> out.merge(run, s, RunSpan::plus));
        }
        return out;
    }

    /**
     * The one group with faults on each side, when each side has exactly one and they differ
     * (a replay of the same trace on another backend, page size or ioctl); null otherwise.
     */
    private static GroupKey[] soleGroups(Map<GroupKey, Map<Integer, Histogram>> b, Map<GroupKey, Map<Integer, Histogram>> c) {
        List<GroupKey> bk = b.entrySet().stream().filter(e -> merged(e.getValue()).getTotalCount() > 0).map(Map.Entry::getKey).toList();
        List<GroupKey> ck = c.entrySet().stream().filter(e -> merged(e.getValue()).getTotalCount() > 0).map(Map.Entry::getKey).toList();
        if (bk.size() != 1 || ck.size() != 1 || bk.getFirst().equals(ck.getFirst())) {
            return null;
        }
        return new GroupKey[] {bk.getFirst(), ck.getFirst()};
    }

    /**
     * One side made of several files (e.g. single-run replays interleaved with the other side's, the
     * way Firecracker's A/B tool cancels the drift of a busy machine): every run of every file
     * becomes a run of the side. Metadata is the first file's.
     */
    public static TraceAnalysis pool(List<TraceAnalysis> files) {
        if (files.size() == 1) {
            return files.getFirst();
        }
        Map<GroupKey, Map<Integer, Histogram>> runs = new TreeMap<>();
        Map<LatencySource, Map<GroupKey, Map<Integer, Histogram>>> bySource = new java.util.EnumMap<>(LatencySource.class);
        Map<GroupKey, Map<Integer, RunSpan>> spans = new TreeMap<>();
        int offset = 0;
        for (TraceAnalysis a : files) {
            int next = pool(a.runs(), offset, runs);
            for (LatencySource s : LatencySource.values()) {
                next = Math.max(next, pool(a.runs(s), offset, bySource.computeIfAbsent(s, x -> new TreeMap<>())));
            }
            next = Math.max(next, pool(a.spans(), offset, spans));
            offset = next;
        }
        TraceAnalysis first = files.getFirst();
        return new TraceAnalysis(first.file(), first.header(), first.footer(), first.by(), first.groups(), runs, bySource, spans,
                first.workingSet(), first.addressMaps(), first.events(), first.recovered(), first.blocktime(), first.threadNames());
    }

    /** Adds one file's runs to {@code into}, numbered from {@code offset}; returns the first run number after them. */
    private static <T> int pool(Map<GroupKey, Map<Integer, T>> file, int offset, Map<GroupKey, Map<Integer, T>> into) {
        int next = offset;
        for (Map.Entry<GroupKey, Map<Integer, T>> e : file.entrySet()) {
            Map<Integer, T> side = into.computeIfAbsent(e.getKey(), k -> new TreeMap<>());
            for (Map.Entry<Integer, T> r : e.getValue().entrySet()) {
                side.put(offset + r.getKey(), r.getValue());
                next = Math.max(next, offset + r.getKey() + 1);
            }
        }
        return next;
    }

    static Histogram merged(Map<Integer, Histogram> runs) {
        Histogram all = new Histogram(3);
        for (Histogram h : runs.values()) {
            all.add(h);
        }
        return all;
    }

    private static double medianOfRuns(Map<Integer, Histogram> runs, double p) {
        double[] v = runs.values().stream().filter(h -> h.getTotalCount() > 0).mapToDouble(h -> h.getValueAtPercentile(p)).sorted().toArray();
        return v.length == 0 ? 0 : median(v);
    }

    /** Each run's p-th percentile, in run order (0 for an empty run). */
    private static double[] valuesOfRuns(Map<Integer, Histogram> runs, double p) {
        return runs.values().stream().mapToDouble(h -> h.getValueAtPercentile(p)).toArray();
    }

    /** The median of a resample (with replacement) of the runs' values. */
    private static double resampleRuns(double[] runs, SplittableRandom random) {
        double[] v = new double[runs.length];
        for (int i = 0; i < runs.length; i++) {
            v[i] = runs[random.nextInt(runs.length)];
        }
        java.util.Arrays.sort(v);
        return median(v);
    }

    /** The p-th percentile of a resample of all n faults: its order statistic is Beta(k, n+1-k), drawn normal-approximated. */
    private static double resampleFaults(Histogram h, double p, SplittableRandom random) {
        double n = h.getTotalCount();
        double k = Math.max(1, Math.ceil(p / 100 * n));
        double mean = k / (n + 1);
        double sd = Math.sqrt(k * (n - k + 1) / ((n + 1) * (n + 1) * (n + 2)));
        double u = Math.min(1, Math.max(0, mean + sd * gaussian(random)));
        return h.getValueAtPercentile(100 * u);
    }

    private static double gaussian(SplittableRandom r) {
        double u1 = Math.max(1e-12, r.nextDouble());
        return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * r.nextDouble());
    }

    /** The median of ascending {@code sorted} (not empty). */
    static double median(double[] sorted) {
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    /** Whether any group regressed. */
    public static boolean anyRegression(List<GroupComparison> groups) {
        return groups.stream().anyMatch(g -> g.verdict() == Verdict.REGRESSION);
    }

    /**
     * What a whole comparison came to, so that a gate cannot pass on missing data: a regression
     * anywhere wins; else nothing compared (no group with faults on both sides: an empty side, or no
     * group in common) and a group missing or empty on one side each have their own outcome.
     */
    public enum Outcome {
        /** Every group has faults on both sides and none regressed. */
        NO_REGRESSION(0, "no regression"),
        /** At least one group regressed. */
        REGRESSION(3, "REGRESSION"),
        /** Some groups compared and none regressed, but a group has faults on one side only. */
        INCOMPLETE(4, "INCOMPLETE"),
        /** No group has faults on both sides: there was nothing to compare. */
        NOTHING_COMPARED(5, "NOTHING COMPARED");

        private final int exitStatus;
        private final String label;

        Outcome(int exitStatus, String label) {
            this.exitStatus = exitStatus;
            this.label = label;
        }

        /** The exit status {@code faultline compare} gives this outcome. */
        public int exitStatus() {
            return exitStatus;
        }

        /** As the summary line and the report print it. */
        public String label() {
            return label;
        }
    }

    /** The outcome of a comparison's groups. */
    public static Outcome outcome(List<GroupComparison> groups) {
        if (groups.stream().allMatch(g -> g.onlyIn() != null)) {
            return Outcome.NOTHING_COMPARED;
        }
        if (anyRegression(groups)) {
            return Outcome.REGRESSION;
        }
        return groups.stream().anyMatch(g -> g.onlyIn() != null) ? Outcome.INCOMPLETE : Outcome.NO_REGRESSION;
    }

    /**
     * Why a comparison's outcome is {@link Outcome#INCOMPLETE} or {@link Outcome#NOTHING_COMPARED},
     * in one sentence naming the groups; null for the other outcomes.
     */
    public static String shortfall(List<GroupComparison> groups) {
        Outcome o = outcome(groups);
        long base = groups.stream().mapToLong(GroupComparison::baseFaults).sum();
        long candidate = groups.stream().mapToLong(GroupComparison::candidateFaults).sum();
        String baseOnly = labels(groups, "base");
        String candidateOnly = labels(groups, "candidate");
        return switch (o) {
            case NO_REGRESSION, REGRESSION -> null;
            case NOTHING_COMPARED -> base == 0 && candidate == 0 ? "neither side holds a fault"
                    : candidate == 0 ? "the candidate holds no fault (the base: " + String.format(java.util.Locale.ROOT, "%,d", base) + ")"
                    : base == 0 ? "the base holds no fault (the candidate: " + String.format(java.util.Locale.ROOT, "%,d", candidate) + ")"
                    : "no group has faults on both sides: the base has " + baseOnly + ", the candidate " + candidateOnly;
            case INCOMPLETE -> (baseOnly.isEmpty() ? "" : baseOnly + " only in the base")
                    + (baseOnly.isEmpty() || candidateOnly.isEmpty() ? "" : "; ")
                    + (candidateOnly.isEmpty() ? "" : candidateOnly + " only in the candidate");
        };
    }

    private static String labels(List<GroupComparison> groups, String side) {
        return groups.stream().filter(g -> side.equals(g.onlyIn())).map(g -> g.key().label())
                .collect(java.util.stream.Collectors.joining(", "));
    }
}
