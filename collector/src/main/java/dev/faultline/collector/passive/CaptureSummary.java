package dev.faultline.collector.passive;

import dev.faultline.core.uffd.ResolveIoctl;
import org.HdrHistogram.Histogram;

import java.nio.file.Path;
import java.util.Map;

/**
 * What one passive capture wrote.
 *
 * @param file      the trace, or null if the process did nothing worth a row (no file is left)
 * @param events    rows written
 * @param faults    PAGEFAULT rows (fault messages the handler read)
 * @param resolves  RESOLVE rows (ioctls no fault was waiting on)
 * @param ioctls    UFFDIO_* calls seen, by kind
 * @param latency   fault entry (page_fault_user) to the resolving ioctl's exit, where both were seen
 * @param lost      events bpftrace reported lost
 * @param late      events that came after younger ones had been linked (ordering not guaranteed for them)
 * @param outside   fault messages and ioctls on addresses in no region the capture knows of
 * @param nanos     duration of the capture
 * @param endedBy   why it ended: "process exited", "duration", "stopped"
 */
public record CaptureSummary(Path file, long events, long faults, long resolves, Map<ResolveIoctl, Long> ioctls,
                             Histogram latency, long lost, long late, long outside, long nanos,
                             String endedBy) {
}
