package dev.faultline.replay.plan;

import dev.faultline.collector.handler.ResolvePolicy;
import dev.faultline.collector.touch.TouchKind;
import dev.faultline.collector.touch.TouchScript;
import dev.faultline.core.abi.UffdAbi;
import dev.faultline.core.region.Backend;
import dev.faultline.core.trace.EventKind;
import dev.faultline.core.trace.RegionInfo;
import dev.faultline.core.trace.TraceEvent;
import dev.faultline.core.trace.TraceHeader;
import dev.faultline.core.trace.TraceReader;
import dev.faultline.core.uffd.RegisterMode;
import dev.faultline.core.uffd.ResolveIoctl;
import dev.faultline.replay.Delay;
import dev.faultline.replay.Pace;
import dev.faultline.replay.ReplayException;
import dev.faultline.replay.ReplayOptions;
import org.HdrHistogram.Histogram;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Reads a trace and plans its replay ({@link ReplayPlan}), refusing in one line anything that
 * cannot be replayed — an unknown region, an offset or range past its region, an absurd length, a
 * region whose faults mix registration modes — before any memory is mapped.
 *
 * <p>The rules: faults are taken in {@code seq} order; a fault becomes a touch of the first byte
 * of its target page, by the thread that played its recorded tid, unless that page already has a
 * planned fault of the region (then it is folded: on bigger target pages a sequential scan faults
 * once per page). Its access is a write for WP faults and recorded writes, a kernel access when
 * it will be POISONed, else a read. It is resolved with the recorded ioctl over the recorded range
 * rounded out to target pages (or the page, with {@code --resolve}). With {@code --threads N}
 * recorded threads fold onto N (tid index mod N) or, when N is larger, faults are dealt round-robin.
 * A fault resolved with a DONTWAKE mode keeps it (the handler then wakes the range itself).
 *
 * <p>RESOLVE rows (pushes: an ioctl no fault waited on, such as QEMU's background pages) are
 * re-issued in recorded order and in their recorded place among the faults: a push issued after
 * fault N began (by the recorded clocks) waits until the replay has begun touching fault N, at
 * any pace, and then as long as it trailed fault N in the recording (divided by a pace factor). With a {@link Delay} from the trace each planned fault waits its recorded handler
 * time (read to ioctl start), a percentile of those, or a draw from them. FORK, REMAP, REMOVE and
 * UNMAP rows, summary rows and RESOLVE rows of a register mode their region does not have are
 * counted in {@link ReplayPlan#skipped()}, not re-driven.
 */
public final class ReplayPlanner {
    private ReplayPlanner() {
    }

    /** Plans the replay of {@code trace} under {@code options}. */
    public static ReplayPlan plan(Path trace, ReplayOptions options) throws IOException {
        options.validate();
        try (TraceReader reader = TraceReader.open(trace)) {
            return new Builder(trace, reader.header(), options).read(reader).build();
        }
    }

    /** Growable columns of the rows replay uses, then the plan. */
    private static final class Builder {
        /** Pages of a push looked through for a fault it overtook; a longer push is a bulk prefetch, not a race. */
        private static final long MAX_OVERTAKEN_SCAN = 512;
        private final Path trace;
        private final TraceHeader header;
        private final ReplayOptions options;
        private final List<RegionInfo> infos;
        private final Backend[] targets;
        private final long[] lengths;

        private int n;
        private long[] seq = new long[1024];
        private boolean[] push = new boolean[1024];
        private int[] region = new int[1024];
        private long[] offset = new long[1024];
        private int[] flags = new int[1024];
        private int[] tid = new int[1024];
        private byte[] ioctl = new byte[1024];
        private long[] resOffset = new long[1024];
        private long[] resLength = new long[1024];
        private long[] time = new long[1024];
        private long[] pushEnd = new long[1024]; // a push's t_resolve_end: faults that began before it may have been caught by it
        private long[] service = new long[1024];
        private int[] mode = new int[1024];
        private long recordedFaults;
        private final Histogram serviceTimes = new Histogram(3);
        private final Map<Integer, Long> byTid = new TreeMap<>();
        private final Map<ResolveIoctl, Long> byIoctl = new EnumMap<>(ResolveIoctl.class);
        private final Map<String, Long> skipped = new LinkedHashMap<>();

        Builder(Path trace, TraceHeader header, ReplayOptions options) {
            this.trace = trace;
            this.header = header;
            this.options = options;
            this.infos = header.regions();
            if (infos.isEmpty()) {
                throw new ReplayException(trace + " lists no regions: nothing to replay");
            }
            targets = new Backend[infos.size()];
            lengths = new long[infos.size()];
            for (RegionInfo info : infos) {
                Backend recorded;
                try {
                    recorded = info.toBackend();
                } catch (IllegalArgumentException e) {
                    throw new ReplayException(trace + ": region " + info.id() + " (" + info.name() + ") has backend '"
                            + info.backend() + "' with " + info.pageSize() + "-byte pages, which replay cannot rebuild");
                }
                Backend target = options.backend() != null ? options.backend() : recorded;
                if (target == Backend.GUEST_MEMFD) {
                    throw new ReplayException(trace + ": region " + info.id() + " is guest_memfd, which this kernel cannot register "
                            + "with userfaultfd; replay it on another backend with --backend shmem (or anon, hugetlb2m)");
                }
                if (info.length() <= 0) {
                    throw new ReplayException(trace + ": region " + info.id() + " has length " + info.length());
                }
                long p = target.pageSize();
                long pages = info.length() / p + (info.length() % p == 0 ? 0 : 1);
                if (pages > Integer.MAX_VALUE) {
                    throw new ReplayException(trace + ": region " + info.id() + " is " + info.length() + " bytes, "
                            + pages + " " + target.label() + " pages; replay handles at most " + Integer.MAX_VALUE);
                }
                targets[info.id()] = target;
                lengths[info.id()] = pages * p;
            }
        }

        Builder read(TraceReader reader) throws IOException {
            TraceEvent e = new TraceEvent();
            while (reader.nextBatch()) {
                for (int i = 0; i < reader.batchRows(); i++) {
                    reader.read(i, e);
                    switch (e.kind) {
                        case PAGEFAULT -> {
                            check(e);
                            add(e, false);
                            recordedFaults++;
                            byTid.merge(e.tid, 1L, Long::sum);
                            byIoctl.merge(e.ioctl, 1L, Long::sum);
                        }
                        case RESOLVE -> {
                            check(e);
                            if (resolves(e.ioctl) || e.ioctl == ResolveIoctl.WAKE) {
                                add(e, true);
                            } else {
                                skipped.merge("RESOLVE without an ioctl", 1L, Long::sum);
                            }
                        }
                        default -> skipped.merge(e.kind.isSummary() ? "summary rows (a --detail summary capture has no "
                                + "faults to replay)" : e.kind.name(), 1L, Long::sum);
                    }
                }
            }
            if (n == 0) {
                throw new ReplayException(trace + " has no PAGEFAULT or RESOLVE rows: nothing to replay"
                        + (skipped.keySet().stream().anyMatch(k -> k.startsWith("summary")) ? " (it is a --detail summary "
                        + "capture: capture with --detail events to replay)" : ""));
            }
            if (options.delay().fromTrace() && serviceTimes.getTotalCount() == 0) {
                throw new ReplayException(trace + " holds no handler service times (t_read and t_resolve_start of its faults): "
                        + "--delay " + options.delay().label() + " needs a capture or recording of a handler");
            }
            return this;
        }

        private static boolean resolves(ResolveIoctl op) {
            return op != ResolveIoctl.NONE && op != ResolveIoctl.WAKE;
        }

        private void check(TraceEvent e) {
            String row = trace + ": " + e.kind + " row seq " + e.seq;
            if (e.region < 0 || e.region >= infos.size()) {
                throw new ReplayException(row + " names region " + e.region + ", but the trace lists " + infos.size()
                        + " (0.." + (infos.size() - 1) + ")");
            }
            long len = infos.get(e.region).length();
            if (e.kind == EventKind.PAGEFAULT && (e.offset < 0 || e.offset >= len)) {
                throw new ReplayException(row + ": offset " + e.offset + " is past region " + e.region + " ("
                        + len + " bytes)");
            }
            if ((resolves(e.ioctl) || e.ioctl == ResolveIoctl.WAKE) && (e.resolveLength <= 0 || e.resolveOffset < 0 || e.resolveOffset >= len
                    || e.resolveLength > len - e.resolveOffset)) {
                throw new ReplayException(row + ": " + e.ioctl + " of " + e.resolveLength + " bytes at offset "
                        + e.resolveOffset + " does not fit region " + e.region + " (" + len + " bytes)");
            }
        }

        private void add(TraceEvent e, boolean isPush) {
            if (n == seq.length) {
                int m = n * 2;
                seq = Arrays.copyOf(seq, m);
                push = Arrays.copyOf(push, m);
                region = Arrays.copyOf(region, m);
                offset = Arrays.copyOf(offset, m);
                flags = Arrays.copyOf(flags, m);
                tid = Arrays.copyOf(tid, m);
                ioctl = Arrays.copyOf(ioctl, m);
                resOffset = Arrays.copyOf(resOffset, m);
                resLength = Arrays.copyOf(resLength, m);
                time = Arrays.copyOf(time, m);
                pushEnd = Arrays.copyOf(pushEnd, m);
                service = Arrays.copyOf(service, m);
                mode = Arrays.copyOf(mode, m);
            }
            seq[n] = e.seq;
            push[n] = isPush;
            region[n] = e.region;
            offset[n] = isPush ? e.resolveOffset : e.offset;
            flags[n] = e.flags;
            tid[n] = e.tid;
            ioctl[n] = (byte) e.ioctl.ordinal();
            resOffset[n] = e.resolveOffset;
            resLength[n] = e.resolveLength;
            time[n] = isPush ? e.tResolveStart : e.tFault != TraceEvent.UNKNOWN ? e.tFault
                    : e.tRead != TraceEvent.UNKNOWN ? e.tRead : e.tResolveStart;
            pushEnd[n] = isPush ? e.tResolveEnd : TraceEvent.UNKNOWN;
            service[n] = -1;
            if (!isPush && e.tRead != TraceEvent.UNKNOWN && e.tResolveStart != TraceEvent.UNKNOWN && e.tResolveStart >= e.tRead) {
                service[n] = e.tResolveStart - e.tRead;
                serviceTimes.recordValue(service[n]);
            }
            mode[n] = (int) (e.resolveMode & e.ioctl.dontWakeMode()); // the only mode bit a replay re-issues
            n++;
        }

        /** Row indices in seq order (rows of several handler threads arrive interleaved). */
        private int[] order() {
            Integer[] boxed = new Integer[n];
            boolean sorted = true;
            for (int i = 0; i < n; i++) {
                boxed[i] = i;
                sorted &= i == 0 || seq[i - 1] <= seq[i];
            }
            if (!sorted) {
                Arrays.sort(boxed, (a, b) -> Long.compare(seq[a], seq[b]));
            }
            int[] out = new int[n];
            for (int i = 0; i < n; i++) {
                out[i] = boxed[i];
            }
            return out;
        }

        /** The registration mode a fault row is of: its ioctl's, or its flags' when the ioctl is unknown. */
        private RegisterMode classOf(int i) {
            ResolveIoctl op = ResolveIoctl.values()[ioctl[i]];
            if (options.resolve() != null) {
                return ResolvePolicy.modeOf(options.resolve());
            }
            if (resolves(op)) {
                return ResolvePolicy.modeOf(op);
            }
            if ((flags[i] & UffdAbi.UFFD_PAGEFAULT_FLAG_WP) != 0) {
                return RegisterMode.WP;
            }
            return (flags[i] & UffdAbi.UFFD_PAGEFAULT_FLAG_MINOR) != 0 ? RegisterMode.MINOR : RegisterMode.MISSING;
        }

        private static ResolveIoctl defaultOp(RegisterMode mode) {
            return switch (mode) {
                case MISSING -> ResolveIoctl.COPY;
                case WP -> ResolveIoctl.WRITEPROTECT;
                case MINOR -> ResolveIoctl.CONTINUE;
            };
        }

        ReplayPlan build() {
            int[] order = order();
            int regions = infos.size();
            RegisterMode[] modes = new RegisterMode[regions];
            for (int i : order) {
                if (push[i]) {
                    continue;
                }
                RegisterMode m = classOf(i);
                RegisterMode had = modes[region[i]];
                if (had != null && had != m) {
                    throw new ReplayException(trace + ": region " + region[i] + " has both " + had + " and " + m
                            + " faults; replay registers one mode per region (choose one with --resolve)");
                }
                modes[region[i]] = m;
            }
            for (int r = 0; r < regions; r++) {
                if (modes[r] == null) {
                    long bits = RegisterMode.parse(infos.get(r).modes());
                    modes[r] = options.resolve() != null ? ResolvePolicy.modeOf(options.resolve())
                            : (bits & RegisterMode.MINOR.bits()) != 0 ? RegisterMode.MINOR
                            : (bits & RegisterMode.WP.bits()) != 0 ? RegisterMode.WP : RegisterMode.MISSING;
                }
            }

            long t0 = Long.MAX_VALUE;
            for (int i = 0; i < n; i++) {
                if (time[i] != TraceEvent.UNKNOWN) {
                    t0 = Math.min(t0, time[i]);
                }
            }
            Pace pace = options.pace();

            // threads: one per recorded tid in order of first appearance, folded or dealt with --threads
            Map<Integer, Integer> tidIndex = new LinkedHashMap<>();
            for (int i : order) {
                if (!push[i]) {
                    tidIndex.putIfAbsent(tid[i], tidIndex.size());
                }
            }
            int recordedThreads = Math.max(1, tidIndex.size());
            int threads = options.threads() == 0 ? recordedThreads : options.threads();
            List<TouchScript> scripts = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                scripts.add(new TouchScript());
            }
            int[] threadTids = new int[threads];
            if (threads == recordedThreads || threads < recordedThreads) {
                for (Map.Entry<Integer, Integer> en : tidIndex.entrySet()) {
                    int t = en.getValue() % threads;
                    threadTids[t] = threads == recordedThreads ? en.getKey() : 0;
                }
            }

            List<Set<Long>> seen = new ArrayList<>();
            List<Columns> perRegion = new ArrayList<>();
            List<Set<ResolveIoctl>> pushOps = new ArrayList<>();
            for (int r = 0; r < regions; r++) {
                seen.add(new HashSet<>());
                perRegion.add(new Columns());
                pushOps.add(EnumSet.noneOf(ResolveIoctl.class));
            }
            List<PendingPush> pending = new ArrayList<>();
            // planned faults in the order they began, for placing the pushes among them
            long[] faultTime = new long[n];
            List<Map<Long, Integer>> faultAt = new ArrayList<>(); // per region: a planned fault's page offset -> its index
            for (int r = 0; r < regions; r++) {
                faultAt.add(new HashMap<>());
            }
            int[] faultThread = new int[n];
            int[] faultTouch = new int[n];
            int planned = 0;
            long folded = 0;
            long dealt = 0;
            long[] lastDue = new long[threads];
            long[] delays = delaysFor(order);
            for (int i : order) {
                int r = region[i];
                long p = targets[r].pageSize();
                ResolveIoctl recordedOp = ResolveIoctl.values()[ioctl[i]];
                long due = time[i] == TraceEvent.UNKNOWN || t0 == Long.MAX_VALUE ? -1 : pace.scale(time[i] - t0);
                if (push[i]) {
                    ResolveIoctl op = recordedOp == ResolveIoctl.WAKE ? ResolveIoctl.WAKE
                            : options.resolve() != null ? options.resolve() : recordedOp;
                    if (op != ResolveIoctl.WAKE && ResolvePolicy.modeOf(op) != modes[r]) {
                        skipped.merge("RESOLVE with " + op + " on a " + modes[r] + " region", 1L, Long::sum);
                        continue;
                    }
                    long start = resOffset[i] / p * p;
                    long end = Math.min(lengths[r], ceil(resOffset[i] + resLength[i], p));
                    pending.add(new PendingPush(new Push(r, op, start, end - start, options.resolve() != null ? 0 : mode[i],
                            Math.max(0, due), -1, 0, 0, -1), time[i], pushEnd[i] != TraceEvent.UNKNOWN ? pushEnd[i] : time[i]));
                    if (op != ResolveIoctl.WAKE) {
                        pushOps.get(r).add(op);
                    }
                    continue;
                }
                long page = offset[i] / p;
                if (!seen.get(r).add(page)) {
                    folded++;
                    continue;
                }
                RegisterMode mode = modes[r];
                ResolveIoctl op = options.resolve() != null ? options.resolve()
                        : resolves(recordedOp) ? recordedOp : defaultOp(mode);
                long start = page * p;
                long len = p;
                if (options.resolve() == null && resolves(recordedOp)) {
                    long s = resOffset[i] / p * p;
                    long end = Math.min(lengths[r], ceil(resOffset[i] + resLength[i], p));
                    if (s <= start && end >= start + p) {
                        start = s;
                        len = end - s;
                    }
                }
                int dontWake = options.resolve() == null && op == recordedOp ? this.mode[i] : 0;
                perRegion.get(r).add(page, op, start, len, dontWake, delays == null ? 0 : delays[i]);
                TouchKind kind = op == ResolveIoctl.POISON ? TouchKind.KERNEL
                        : mode == RegisterMode.WP || (flags[i] & UffdAbi.UFFD_PAGEFAULT_FLAG_WRITE) != 0
                        ? TouchKind.WRITE : TouchKind.READ;
                int ti = tidIndex.getOrDefault(tid[i], 0);
                int t = threads <= recordedThreads ? ti % threads : (int) (dealt++ % threads);
                long d = due < 0 ? lastDue[t] : due;
                lastDue[t] = d;
                faultTime[planned] = time[i];
                faultAt.get(r).put(page * p, planned);
                faultThread[planned] = t;
                faultTouch[planned] = scripts.get(t).size();
                planned++;
                scripts.get(t).add(r, (int) page, kind, d);
            }
            List<Push> pushes = place(pending, faultTime, faultThread, faultTouch, planned, pace, faultAt, targets);

            List<RegionPlan> plans = new ArrayList<>();
            for (int r = 0; r < regions; r++) {
                Columns c = perRegion.get(r);
                plans.add(new RegionPlan(infos.get(r), targets[r], lengths[r], modes[r], c.pages(), c.ops(),
                        c.offsets(), c.lengths(), c.modes(), delays == null ? null : c.delays(), pushOps.get(r)));
            }
            scripts.replaceAll(TouchScript::seal);
            return new ReplayPlan(trace, header, List.copyOf(plans), List.copyOf(scripts), threadTids,
                    List.copyOf(pushes), recordedFaults, Map.copyOf(byTid), Map.copyOf(byIoctl), folded,
                    Map.copyOf(skipped), serviceTimes);
        }

        /**
         * Per row, the delay its fault waits before the ioctl when the trace decides it (null otherwise):
         * its own recorded service time, a percentile of them, or a seeded draw from them.
         */
        private long[] delaysFor(int[] order) {
            Delay delay = options.delay();
            if (!delay.fromTrace()) {
                return null;
            }
            long[] out = new long[n];
            switch (delay.kind()) {
                case RECORDED -> {
                    for (int i = 0; i < n; i++) {
                        out[i] = Math.max(0, service[i]); // a fault without a recorded time waits none
                    }
                }
                case P50, P99 -> Arrays.fill(out, serviceTimes.getValueAtPercentile(delay.kind() == Delay.Kind.P50 ? 50 : 99));
                case DIST -> {
                    long[] drawn = new long[(int) serviceTimes.getTotalCount()];
                    int k = 0;
                    for (int i : order) {
                        if (!push[i] && service[i] >= 0) {
                            drawn[k++] = service[i];
                        }
                    }
                    java.util.SplittableRandom random = new java.util.SplittableRandom(1);
                    for (int i = 0; i < n; i++) {
                        out[i] = drawn[random.nextInt(k)];
                    }
                }
                default -> { }
            }
            return out;
        }

        /**
         * The pushes in recorded order, each waiting for the planned fault that began last before it
         * did (by the recorded clocks): its thread must have begun that touch.
         */
        private static List<Push> place(List<PendingPush> pending, long[] faultTime, int[] faultThread, int[] faultTouch,
                                        int planned, Pace pace, List<Map<Long, Integer>> faultAt, Backend[] targets) {
            Integer[] byTime = new Integer[planned];
            for (int j = 0; j < planned; j++) {
                byTime[j] = j;
            }
            Arrays.sort(byTime, (a, b) -> Long.compare(faultTime[a], faultTime[b]));
            long[] sorted = new long[planned];
            for (int j = 0; j < planned; j++) {
                sorted[j] = faultTime[byTime[j]];
            }
            List<Push> out = new ArrayList<>(pending.size());
            for (PendingPush pp : pending) {
                Push p = pp.push();
                int before = pp.time() == TraceEvent.UNKNOWN ? 0 : lowerBound(sorted, pp.time()); // faults that began earlier
                if (before == 0) {
                    out.add(p);
                    continue;
                }
                int f = byTime[before - 1];
                long after = pp.time() - faultTime[f];
                out.add(new Push(p.region(), p.op(), p.offset(), p.length(), p.mode(), p.dueNanos(), faultThread[f], faultTouch[f] + 1,
                        pace.paced() ? pace.scale(after) : after, overtaken(p, pp.end(), faultTime, faultAt, targets)));
            }
            return out;
        }

        /**
         * The offset of the page, among those {@code p} covers, of the fault that began last before
         * the push's ioctl returned at {@code time} (the fault the push overtook, or caught while it
         * ran), or -1 if none did.
         */
        private static long overtaken(Push p, long time, long[] faultTime, List<Map<Long, Integer>> faultAt, Backend[] targets) {
            Map<Long, Integer> at = faultAt.get(p.region());
            long pageSize = targets[p.region()].pageSize();
            if (time == TraceEvent.UNKNOWN || at.isEmpty() || p.length() / pageSize > MAX_OVERTAKEN_SCAN) {
                return -1;
            }
            long found = -1;
            long latest = Long.MIN_VALUE;
            for (long off = p.offset(); off < p.offset() + p.length(); off += pageSize) {
                Integer f = at.get(off);
                if (f != null && faultTime[f] <= time && faultTime[f] > latest) {
                    latest = faultTime[f];
                    found = off;
                }
            }
            return found;
        }

        /** The number of values in sorted {@code a} below {@code key}. */
        private static int lowerBound(long[] a, long key) {
            int lo = 0;
            int hi = a.length;
            while (lo < hi) {
                int mid = (lo + hi) >>> 1;
                if (a[mid] < key) {
                    lo = mid + 1;
                } else {
                    hi = mid;
                }
            }
            return lo;
        }

        private static long ceil(long x, long p) {
            return (x + p - 1) / p * p;
        }
    }

    /** A push while the planner places it: the recorded time it was issued at. */
    /** A push before it is placed: its recorded start ({@code time}) and end ({@code end}, t_resolve_end), ns. */
    private record PendingPush(Push push, long time, long end) {
    }

    /** A region's planned faults while they are collected. */
    private static final class Columns {
        private long[] pages = new long[64];
        private byte[] ops = new byte[64];
        private long[] offsets = new long[64];
        private long[] lengths = new long[64];
        private int[] modes = new int[64];
        private long[] delays = new long[64];
        private int n;

        void add(long page, ResolveIoctl op, long offset, long length, int mode, long delay) {
            if (n == pages.length) {
                pages = Arrays.copyOf(pages, n * 2);
                ops = Arrays.copyOf(ops, n * 2);
                offsets = Arrays.copyOf(offsets, n * 2);
                lengths = Arrays.copyOf(lengths, n * 2);
                modes = Arrays.copyOf(modes, n * 2);
                delays = Arrays.copyOf(delays, n * 2);
            }
            pages[n] = page;
            ops[n] = (byte) op.ordinal();
            offsets[n] = offset;
            lengths[n] = length;
            modes[n] = mode;
            delays[n] = delay;
            n++;
        }

        int[] modes() {
            return Arrays.copyOf(modes, n);
        }

        long[] delays() {
            return Arrays.copyOf(delays, n);
        }

        long[] pages() {
            return Arrays.copyOf(pages, n);
        }

        byte[] ops() {
            return Arrays.copyOf(ops, n);
        }

        long[] offsets() {
            return Arrays.copyOf(offsets, n);
        }

        long[] lengths() {
            return Arrays.copyOf(lengths, n);
        }
    }
}
