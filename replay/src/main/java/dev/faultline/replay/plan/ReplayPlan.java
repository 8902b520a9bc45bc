package dev.faultline.replay.plan;

import dev.faultline.collector.touch.TouchScript;
import dev.faultline.core.trace.TraceHeader;
import dev.faultline.core.uffd.ResolveIoctl;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * A trace turned into what a replay does: the regions to build, one {@link TouchScript} per
 * faulting thread, and the pushes to re-issue — plus what the recording counted, to compare with.
 *
 * <p>Built and checked by {@link ReplayPlanner} before any memory is mapped; immutable after.
 *
 * @param trace            the trace file
 * @param header           its header
 * @param regions          by region id
 * @param scripts          one per faulting thread
 * @param threadTids       per faulting thread, the recorded tid it plays (0 when it plays several)
 * @param pushes           RESOLVE rows, in recorded order
 * @param recordedFaults   PAGEFAULT rows in the trace
 * @param faultsByTid      PAGEFAULT rows per recorded tid
 * @param faultsByIoctl    PAGEFAULT rows per recorded ioctl
 * @param folded           PAGEFAULT rows not replayed as a touch of their own (their page already faulted)
 * @param skipped          rows that replay does not re-drive, counted by what they are
 * @param serviceTimes     the trace's handler service times (read to ioctl start) of its faults, where known
 */
public record ReplayPlan(Path trace, TraceHeader header, List<RegionPlan> regions, List<TouchScript> scripts,
                         int[] threadTids, List<Push> pushes, long recordedFaults, Map<Integer, Long> faultsByTid,
                         Map<ResolveIoctl, Long> faultsByIoctl, long folded, Map<String, Long> skipped,
                         org.HdrHistogram.Histogram serviceTimes) {

    /** Planned faults over every region. */
    public long plannedFaults() {
        long n = 0;
        for (RegionPlan r : regions) {
            n += r.faults();
        }
        return n;
    }

    /**
     * Bytes of ordinary memory (not hugetlb's reserved pool) a run makes resident: each region's
     * {@link RegionPlan#residentBytes()}, and the source a MOVE takes its pages from.
     */
    public long residentBytes() {
        long bytes = 0;
        for (RegionPlan r : regions) {
            if (!r.backend().isHugetlb()) {
                bytes += r.residentBytes() + (r.opsUsed().contains(ResolveIoctl.MOVE) ? r.length() : 0);
            }
        }
        return bytes;
    }

    /** Whether some push waits for a fault in {@code region} to be read before it goes ({@link Push#takenOffset()}). */
    public boolean waitsForReads(int region) {
        for (Push p : pushes) {
            if (p.region() == region && p.takenOffset() >= 0) {
                return true;
            }
        }
        return false;
    }

    /** Touches over every thread. */
    public long touches() {
        long n = 0;
        for (TouchScript s : scripts) {
            n += s.size();
        }
        return n;
    }
}
