package dev.faultline.guest;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * How QEMU runs a guest's CPUs: KVM (hardware virtualisation: the guest's timings mean something)
 * or TCG (QEMU's own translator: every guest instruction emulated, timings for function only).
 */
public enum Accel {
    /** Hardware-assisted: {@code -accel kvm -cpu host}. */
    KVM,
    /** Emulated: {@code -accel tcg -cpu max}. */
    TCG;

    /** Lower-case name for options and output. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The accelerator named by {@code --accel} ({@code auto}, {@code kvm}, {@code tcg}). */
    public static Accel parse(String s) {
        return switch (s.toLowerCase(Locale.ROOT)) {
            case "auto" -> detect();
            case "kvm" -> KVM;
            case "tcg" -> TCG;
            default -> throw new IllegalArgumentException("--accel: unknown accelerator '" + s + "' (expected auto, kvm or tcg)");
        };
    }

    /**
     * KVM when {@code /dev/kvm} is there and the CPU offers VMX or SVM to this kernel; TCG otherwise.
     * A {@code /dev/kvm} without either (a paravirtual KVM such as kvm_pvm inside a cloud VM) cannot
     * run QEMU's x86 guests, so it does not count.
     */
    public static Accel detect() {
        return Files.exists(Path.of("/dev/kvm")) && cpuFlag("vmx", "svm") ? KVM : TCG;
    }

    /** Whether this host is itself a virtual machine (the CPU's hypervisor flag). */
    public static boolean hostIsVirtual() {
        return cpuFlag("hypervisor");
    }

    private static boolean cpuFlag(String... names) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("flags")) {
                    for (String f : line.substring(line.indexOf(':') + 1).trim().split(" ")) {
                        for (String n : names) {
                            if (f.equals(n)) {
                                return true;
                            }
                        }
                    }
                    return false;
                }
            }
        } catch (IOException e) {
            return false;
        }
        return false;
    }
}
