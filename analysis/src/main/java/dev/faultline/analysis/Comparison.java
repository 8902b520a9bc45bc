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
 * size or ioctl), those two are compared with each other.
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
     * One group's comparison; {@code changes} is empty and {@code verdict} NO_CHANGE when the group
     * is on one side only ({@code onlyIn} then names the side).
     *
     * @param runs "runs" when runs were resampled, "faults" when faults were
     */
    public record GroupComparison(GroupKey key, long baseFaults, long candidateFaults, List<PercentileChange> changes,
                                  Verdict verdict, String runs, String onlyIn, Histogram base, Histogram candidate) {
    }

    private Comparison() {
    }

    /** Compares every group of the two analyses. */
    public static List<GroupComparison> compare(TraceAnalysis base, TraceAnalysis candidate, double threshold, long seed) {
        return compare(base, candidate, threshold, seed, DEFAULT_GATE);
    }

    /** The percentiles a group's verdict is gated on unless told otherwise. */
    public static final java.util.Set<Double> DEFAULT_GATE = java.util.Set.of(50.0);

    /** Compares every group on the latency each reports, gating each group's verdict on the percentiles in {@code gate}. */
    public static List<GroupComparison> compare(TraceAnalysis base, TraceAnalysis candidate, double threshold, long seed,
                                                java.util.Set<Double> gate) {
        return compare(base.runs(), candidate.runs(), threshold, seed, gate);
    }

    /**
     * Compares every group on one latency definition for both sides ({@link #commonSource} picks one
     * both have), gating each group's verdict on the percentiles in {@code gate}.
     */
    public static List<GroupComparison> compare(TraceAnalysis base, TraceAnalysis candidate, LatencySource source, double threshold,
                                                long seed, java.util.Set<Double> gate) {
        return compare(base.runs(source), candidate.runs(source), threshold, seed, gate);
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

    private static List<GroupComparison> compare(Map<GroupKey, Map<Integer, Histogram>> b, Map<GroupKey, Map<Integer, Histogram>> c,
                                                 double threshold, long seed, java.util.Set<Double> gate) {
        GroupKey[] pair = soleGroups(b, c);
        if (pair != null) { // one group a side, nothing in common: a variant (another backend, page size, ioctl) of the same faults
            GroupKey paired = new GroupKey(pair[0].ioctl(), pair[0].pageSize(), pair[0].backend(),
                    (pair[0].part().isEmpty() ? "" : pair[0].part() + " ") + "vs " + pair[1].label());
            b = Map.of(paired, b.get(pair[0]));
            c = Map.of(paired, c.get(pair[1]));
        }
        TreeSet<GroupKey> keys = new TreeSet<>(b.keySet());
        keys.addAll(c.keySet());
        SplittableRandom random = new SplittableRandom(seed);
        List<GroupComparison> out = new ArrayList<>();
        for (GroupKey k : keys) {
            Map<Integer, Histogram> br = b.getOrDefault(k, new TreeMap<>());
            Map<Integer, Histogram> cr = c.getOrDefault(k, new TreeMap<>());
            Histogram bAll = merged(br);
            Histogram cAll = merged(cr);
            if (bAll.getTotalCount() == 0 || cAll.getTotalCount() == 0) {
                out.add(new GroupComparison(k, bAll.getTotalCount(), cAll.getTotalCount(), List.of(), Verdict.NO_CHANGE,
                        "", bAll.getTotalCount() == 0 ? "candidate" : "base", bAll, cAll));
                continue;
            }
            boolean byRuns = br.size() >= 2 && cr.size() >= 2;
            List<PercentileChange> changes = new ArrayList<>();
            Verdict group = Verdict.NO_CHANGE;
            for (double p : PERCENTILES) {
                double baseValue = byRuns ? medianOfRuns(br, p) : bAll.getValueAtPercentile(p);
                double candValue = byRuns ? medianOfRuns(cr, p) : cAll.getValueAtPercentile(p);
                double ratio = candValue / Math.max(1, baseValue);
                double[] ratios = new double[RESAMPLES];
                for (int i = 0; i < RESAMPLES; i++) {
                    double bs = byRuns ? resampleRuns(br, p, random) : resampleFaults(bAll, p, random);
                    double cs = byRuns ? resampleRuns(cr, p, random) : resampleFaults(cAll, p, random);
                    ratios[i] = cs / Math.max(1, bs);
                }
                java.util.Arrays.sort(ratios);
                double low = ratios[(int) (RESAMPLES * 0.025)];
                double high = ratios[(int) (RESAMPLES * 0.975) - 1];
                Verdict v = low > 1 + threshold ? Verdict.REGRESSION
                        : high < 1 - threshold ? Verdict.IMPROVEMENT : Verdict.NO_CHANGE;
                changes.add(new PercentileChange(p, baseValue, candValue, ratio, low, high, v));
                if (!gate.contains(p)) {
                    continue;
                }
                if (v == Verdict.REGRESSION) {
                    group = Verdict.REGRESSION;
                } else if (v == Verdict.IMPROVEMENT && group == Verdict.NO_CHANGE) {
                    group = Verdict.IMPROVEMENT;
                }
            }
            out.add(new GroupComparison(k, bAll.getTotalCount(), cAll.getTotalCount(), List.copyOf(changes), group,
                    byRuns ? br.size() + " vs " + cr.size() + " runs" : "faults (one run a side: run-to-run noise not included)",
                    null, bAll, cAll));
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
        int offset = 0;
        for (TraceAnalysis a : files) {
            int next = pool(a.runs(), offset, runs);
            for (LatencySource s : LatencySource.values()) {
                next = Math.max(next, pool(a.runs(s), offset, bySource.computeIfAbsent(s, x -> new TreeMap<>())));
            }
            offset = next;
        }
        TraceAnalysis first = files.getFirst();
        return new TraceAnalysis(first.file(), first.header(), first.footer(), first.by(), first.groups(), runs, bySource,
                first.workingSet(), first.addressMaps(), first.events(), first.recovered(), first.blocktime(), first.threadNames());
    }

    /** Adds one file's runs to {@code into}, numbered from {@code offset}; returns the first run number after them. */
    private static int pool(Map<GroupKey, Map<Integer, Histogram>> file, int offset, Map<GroupKey, Map<Integer, Histogram>> into) {
        int next = offset;
        for (Map.Entry<GroupKey, Map<Integer, Histogram>> e : file.entrySet()) {
            Map<Integer, Histogram> side = into.computeIfAbsent(e.getKey(), k -> new TreeMap<>());
            for (Map.Entry<Integer, Histogram> r : e.getValue().entrySet()) {
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

    private static double resampleRuns(Map<Integer, Histogram> runs, double p, SplittableRandom random) {
        Histogram[] hs = runs.values().toArray(Histogram[]::new);
        double[] v = new double[hs.length];
        for (int i = 0; i < hs.length; i++) {
            v[i] = hs[random.nextInt(hs.length)].getValueAtPercentile(p);
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

    private static double median(double[] sorted) {
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
