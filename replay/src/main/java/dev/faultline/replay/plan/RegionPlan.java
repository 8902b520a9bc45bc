package dev.faultline.replay.plan;

import dev.faultline.core.region.Backend;
import dev.faultline.core.region.PageIndex;
import dev.faultline.core.trace.RegionInfo;
import dev.faultline.core.uffd.RegisterMode;
import dev.faultline.core.uffd.ResolveIoctl;

import java.util.Arrays;
import java.util.EnumSet;
import java.util.Set;

/**
 * One region of a replay: what the trace recorded, what will be built (backend, length, the one
 * registration mode), and how each planned fault is resolved — per faulting page, the ioctl and
 * the region range it covers.
 *
 * <p>Invariants: {@link #length()} is a whole number of target pages and at least the recorded
 * length; planned pages are unique and ascending, each inside its own resolve range, every range
 * inside the region. {@link #find} goes through a {@link PageIndex}: the handler's lookup allocates nothing.
 */
public final class RegionPlan {
    private static final ResolveIoctl[] IOCTLS = ResolveIoctl.values();

    private final RegionInfo recorded;
    private final Backend backend;
    private final long length;
    private final RegisterMode mode;
    private final long[] pages;
    private final PageIndex index;
    private final byte[] ops;
    private final long[] rangeOffsets;
    private final long[] rangeLengths;
    private final int[] modes;
    private final long[] delays;
    private final Set<ResolveIoctl> opsUsed;
    private final long maxRangeLength;

    RegionPlan(RegionInfo recorded, Backend backend, long length, RegisterMode mode, long[] pages, byte[] ops,
               long[] rangeOffsets, long[] rangeLengths, int[] modes, long[] delays, Set<ResolveIoctl> pushOps) {
        this.recorded = recorded;
        this.backend = backend;
        this.length = length;
        this.mode = mode;
        int n = pages.length;
        long[] keys = new long[n];
        for (int i = 0; i < n; i++) {
            keys[i] = pages[i] << 32 | i; // pages < 2^31 (checked by the planner)
        }
        Arrays.sort(keys);
        this.pages = new long[n];
        this.ops = new byte[n];
        this.rangeOffsets = new long[n];
        this.rangeLengths = new long[n];
        this.modes = new int[n];
        this.delays = delays == null ? null : new long[n];
        EnumSet<ResolveIoctl> used = EnumSet.noneOf(ResolveIoctl.class);
        used.addAll(pushOps);
        long max = backend.pageSize();
        for (int j = 0; j < n; j++) {
            int i = (int) keys[j];
            this.pages[j] = pages[i];
            this.ops[j] = ops[i];
            this.rangeOffsets[j] = rangeOffsets[i];
            this.rangeLengths[j] = rangeLengths[i];
            this.modes[j] = modes[i];
            if (delays != null) {
                this.delays[j] = delays[i];
            }
            used.add(IOCTLS[ops[i]]);
            max = Math.max(max, rangeLengths[i]);
        }
        this.index = new PageIndex(this.pages);
        this.opsUsed = used;
        this.maxRangeLength = max;
    }

    /** The region as the trace recorded it. */
    public RegionInfo recorded() {
        return recorded;
    }

    public int id() {
        return recorded.id();
    }

    public String name() {
        return recorded.name();
    }

    /** The backend it is rebuilt on. */
    public Backend backend() {
        return backend;
    }

    public long pageSize() {
        return backend.pageSize();
    }

    /** Bytes to map: the recorded length rounded up to whole target pages. */
    public long length() {
        return length;
    }

    /** The registration mode every planned fault of the region is of. */
    public RegisterMode mode() {
        return mode;
    }

    /** Planned faults (first touches of a target page). */
    public int faults() {
        return pages.length;
    }

    /** The planned faulting pages (target page indices), ascending. */
    public long[] pages() {
        return pages.clone();
    }

    /** The index of {@code page} among the planned faults, or -1. */
    public int find(long page) {
        return index.find(page);
    }

    /** The target page index of planned fault {@code i}. */
    public long page(int i) {
        return pages[i];
    }

    /** The ioctl that resolves planned fault {@code i}. */
    public ResolveIoctl op(int i) {
        return IOCTLS[ops[i]];
    }

    /** Region offset of the range planned fault {@code i}'s ioctl covers. */
    public long rangeOffset(int i) {
        return rangeOffsets[i];
    }

    /** Length of that range: whole target pages. */
    public long rangeLength(int i) {
        return rangeLengths[i];
    }

    /** The DONTWAKE bit planned fault {@code i} is resolved with (the handler then wakes its range itself), else 0. */
    public int mode(int i) {
        return modes[i];
    }

    /** Whether planned faults wait a delay of their own ({@link #delay}) rather than the replay's fixed one. */
    public boolean hasDelays() {
        return delays != null;
    }

    /** The ns planned fault {@code i} waits before its ioctl, when {@link #hasDelays()}. */
    public long delay(int i) {
        return delays[i];
    }

    /** Every ioctl the region's faults and pushes use. */
    public Set<ResolveIoctl> opsUsed() {
        return EnumSet.copyOf(opsUsed.isEmpty() ? EnumSet.of(ResolveIoctl.COPY) : opsUsed);
    }

    /** The longest range one ioctl covers (at least a page): the size a content source must serve. */
    public long maxRangeLength() {
        return maxRangeLength;
    }

    /** Bytes the replay makes resident: every resolved range for MISSING, the whole region otherwise (it is filled first). */
    public long residentBytes() {
        if (mode != RegisterMode.MISSING) {
            return length;
        }
        long sum = 0;
        for (long l : rangeLengths) {
            sum += l;
        }
        return Math.min(sum, length);
    }
}
