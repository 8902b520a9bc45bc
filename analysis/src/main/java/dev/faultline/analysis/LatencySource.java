package dev.faultline.analysis;

/**
 * What a group's fault latency is measured from and to. A file's faults are timed as far as its
 * source can see: Faultline's own faulting threads from the access to running again, a passive
 * capture from the kernel's fault entry to the resolving ioctl, and faults the kernel took on the
 * process's behalf (no entry event) only from the handler's read.
 */
public enum LatencySource {
    /** {@code t_wake - t_fault}: the faulting thread's own clock around the access (recordings, replays). */
    END_TO_END("t_wake - t_fault", "end to end"),
    /** {@code t_resolve_end - t_fault}: page_fault_user to the resolving ioctl's exit (passive captures). */
    FAULT_TO_RESOLVE("fault -> resolve: t_resolve_end - t_fault", "fault -> resolve"),
    /** {@code t_resolve_end - t_read}: the handler's read to its ioctl's exit (faults with no entry time). */
    SERVICE("service: t_resolve_end - t_read", "service");

    private final String description;
    private final String shortName;

    LatencySource(String description, String shortName) {
        this.description = description;
        this.shortName = shortName;
    }

    /** The definition, as reports and summaries print it. */
    public String description() {
        return description;
    }

    /** As options spell it: end-to-end, fault-to-resolve, service. */
    public String optionName() {
        return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
    }

    /** A few words for axis labels: "end to end", "fault -> resolve", "service". */
    public String shortName() {
        return shortName;
    }
}
