package dev.faultline.core.probe;

import java.util.List;
import java.util.Map;

/**
 * What {@link CapabilityProbe} found on the running kernel: its release, the userfaultfd
 * features it reports (raw mask and names), how a uffd could be opened, the free huge pages per
 * page size, and one {@link ProbeCell} per backend × register mode × resolving ioctl tried.
 */
public record ProbeReport(String kernel, long features, List<String> featureNames, String openedVia,
                          Map<Long, Long> freeHugePages, List<ProbeCell> cells) {
}
