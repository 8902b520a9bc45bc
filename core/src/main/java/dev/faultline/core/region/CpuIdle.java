package dev.faultline.core.region;

import java.util.Locale;

/**
 * What a benchmark (a replay, a recorded workload, the JMH suites) asks of the machine's idle CPUs
 * while it runs.
 *
 * <p>{@link #POLL} holds the kernel's CPU latency request at 0 ({@link CpuIdleHold})
 * so that a CPU whose faulting thread blocked polls instead of halting, and the wake a resolving
 * ioctl sends is not an idle-state exit; {@link #SYSTEM} leaves idle states to the system's
 * governor, so wakes include whatever its idle states cost.
 */
public enum CpuIdle {
    POLL,
    SYSTEM;

    /** Lower-case name, as the option and the results' metadata spell it. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
