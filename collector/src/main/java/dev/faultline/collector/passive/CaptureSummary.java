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
 * @param faults    faults read by the handler (PAGEFAULT rows, or counted in summary rows)
 * @param resolves  ioctls no fault was waiting on
 * @param ioctls    UFFDIO_* calls seen, by kind
 * @param latency   fault entry (page_fault_user) to the resolving ioctl's exit, where the entry was seen: the passive latency
 * @param queue     fault entry to the handler's read, same faults
 * @param service   the handler's read to the resolving ioctl's exit, every resolved fault
 * @param lost      records the capture program dropped (its ring buffer was full) or could not be decoded
 * @param late      records that came after younger ones had been linked (ordering not guaranteed for them)
 * @param outside   fault messages and ioctls on addresses in no region the capture knows of
 * @param nanos     duration of the capture
 * @param endedBy   why it ended: "process exited", "duration", "stopped"
 * @param uffdSeen  whether the process had or opened a userfaultfd at all
 * @param detail    events or summary
 */
public record CaptureSummary(Path file, long events, long faults, long resolves, Map<ResolveIoctl, Long> ioctls,
                             Histogram latency, Histogram queue, Histogram service, long lost, long late, long outside,
                             long nanos, String endedBy, boolean uffdSeen, PassiveCapture.Detail detail) {
}
