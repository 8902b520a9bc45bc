package dev.faultline.collector.handler;

import dev.faultline.collector.record.TouchClock;
import dev.faultline.core.region.Region;
import dev.faultline.core.trace.RegionInfo;

/**
 * A region under a {@link UffdHandler}: the memory, its id in the trace, how its faults are
 * resolved, and (when the faulting threads are ours) their per-page timings.
 *
 * <p>{@link #base} follows the region when a REMAP event moves it; {@link #unmapped} is set by an
 * UNMAP event covering it. Both are written by handler threads and read by any.
 */
public final class HandledRegion {
    private final int id;
    private final String name;
    private final Region region;
    private final ResolvePolicy policy;
    private final TouchClock clock;
    volatile long base;
    volatile boolean unmapped;

    /**
     * @param id    the region's index in the trace header (0, 1, …, in handler order)
     * @param clock the faulting side's timings, or null when the faulting threads are not ours
     */
    public HandledRegion(int id, String name, Region region, ResolvePolicy policy, TouchClock clock) {
        this.id = id;
        this.name = name;
        this.region = region;
        this.policy = policy;
        this.clock = clock;
        this.base = region.address();
    }

    public int id() {
        return id;
    }

    public String name() {
        return name;
    }

    public Region region() {
        return region;
    }

    public ResolvePolicy policy() {
        return policy;
    }

    /** The faulting side's timings, or null. */
    public TouchClock clock() {
        return clock;
    }

    /** Where the region is mapped now. */
    public long base() {
        return base;
    }

    /** Whether an UNMAP event removed it. */
    public boolean unmapped() {
        return unmapped;
    }

    boolean contains(long address) {
        long b = base;
        return address >= b && address - b < region.length();
    }

    /** The trace header's description of this region. */
    public RegionInfo info() {
        return RegionInfo.of(id, name, region.backend(), region.length(), policy.mode().bits(), region.address());
    }
}
