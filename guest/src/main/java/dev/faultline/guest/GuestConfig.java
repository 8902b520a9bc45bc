package dev.faultline.guest;

import java.time.Duration;

/**
 * The size and limits of a guest, the same for every kernel of one comparison so that guests
 * differ only in their kernel.
 *
 * @param memoryMiB    guest RAM
 * @param cpus         vCPUs
 * @param accel        KVM or TCG
 * @param pinCpus      host CPUs every guest's QEMU is pinned to (a taskset list such as {@code 0-1}),
 *                     or null for no pinning
 * @param hugePages2m  2 MiB huge pages the guest reserves at boot
 * @param bootTimeout  how long a guest may take to boot before it is killed
 * @param runTimeout   how long one command inside may take before the guest is killed
 */
public record GuestConfig(int memoryMiB, int cpus, Accel accel, String pinCpus, int hugePages2m, Duration bootTimeout,
                          Duration runTimeout) {
    public GuestConfig {
        if (memoryMiB < 256) {
            throw new IllegalArgumentException("guest memory " + memoryMiB + " MiB: at least 256 MiB, for the JVM inside");
        }
        if (cpus < 1) {
            throw new IllegalArgumentException("guest vCPUs " + cpus + ": at least 1");
        }
        if (hugePages2m < 0 || hugePages2m * 2L > memoryMiB / 2) {
            throw new IllegalArgumentException("guest huge pages " + hugePages2m + " x 2 MiB: at most half of the guest's "
                    + memoryMiB + " MiB");
        }
    }

    /** "tcg, 2 vCPUs, 2048 MiB" for the output and the results files. */
    public String describe() {
        return accel.label() + ", " + cpus + " vCPU" + (cpus == 1 ? "" : "s") + ", " + memoryMiB + " MiB"
                + (pinCpus == null ? "" : ", pinned to host CPUs " + pinCpus);
    }
}
