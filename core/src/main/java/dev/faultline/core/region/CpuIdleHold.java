package dev.faultline.core.region;

import dev.faultline.core.abi.Errno;
import dev.faultline.core.abi.Libc;
import dev.faultline.core.abi.MmanAbi;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Keeps this machine's idle CPUs in their shallowest idle state (polling) while it is open, through
 * the kernel's PM QoS CPU latency request: {@code /dev/cpu_dma_latency} held open with 0 µs written
 * to it. Closing it drops the request, and so does the process's death.
 *
 * <p>Why a replay wants it: a fault's wake lands on the CPU where the faulting thread blocked.
 * If that CPU has halted, waking it is an idle-state exit — on a virtual machine a VM exit and an
 * IPI through the host. Measured here (nested VM, haltpoll): a replay's COPY that wakes a thread
 * took 10-12 µs in the kernel with idle CPUs halting and 2.6-3.2 µs with them polling, and the
 * fault latency p50 went from 42-59 µs to 8.7-9.5 µs. A benchmark of uffd should not measure the
 * idle governor; a busy production host (a migration's source beside its destination, running
 * vCPUs) rarely halts either.
 *
 * <p>Invariant: {@link #held()} is true exactly while the request is in force; otherwise
 * {@link #why()} says why it could not be made (the device missing, the errno by name).
 */
public final class CpuIdleHold implements AutoCloseable {
    /** The PM QoS CPU latency device (drivers/base/power/qos, kernel/power/qos.c). */
    public static final String DEVICE = "/dev/cpu_dma_latency";

    private int fd;
    private final String why;

    private CpuIdleHold(int fd, String why) {
        this.fd = fd;
        this.why = why;
    }

    /**
     * Asks for idle CPUs to poll until {@link #close}. Never throws for a machine that cannot:
     * the hold then is not {@link #held()} and {@link #why()} says why.
     */
    public static CpuIdleHold poll() {
        int fd = Libc.open(DEVICE, MmanAbi.O_WRONLY | MmanAbi.O_CLOEXEC);
        if (fd < 0) {
            return new CpuIdleHold(-1, "cannot open " + DEVICE + ": " + Errno.name(-fd));
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment zero = arena.allocate(ValueLayout.JAVA_INT);
            zero.set(ValueLayout.JAVA_INT, 0, 0);
            long n = Libc.write(fd, zero.address(), Integer.BYTES);
            if (n != Integer.BYTES) {
                Libc.close(fd);
                return new CpuIdleHold(-1, "cannot write 0 to " + DEVICE + ": " + (n < 0 ? Errno.name((int) -n) : "short write"));
            }
        }
        return new CpuIdleHold(fd, null);
    }

    /** No request: idle states as the system sets them. */
    public static CpuIdleHold none() {
        return new CpuIdleHold(-1, "not asked for");
    }

    /** {@link #poll()} for {@link CpuIdle#POLL}, {@link #none()} for {@link CpuIdle#SYSTEM}. */
    public static CpuIdleHold of(CpuIdle how) {
        return how == CpuIdle.POLL ? poll() : none();
    }

    /** Whether polling was asked for and the kernel refused it ({@link #why()} says why). */
    public boolean refused() {
        return fd < 0 && why != null && !why.equals("not asked for");
    }

    /**
     * The CPU latency limit in force now, in µs, as the kernel reports it (the smallest of every
     * process's requests; 2,000,000,000 when nobody asks), or -1 if it cannot be read.
     */
    public static int currentLimitMicros() {
        int fd = Libc.open(DEVICE, MmanAbi.O_RDONLY | MmanAbi.O_CLOEXEC);
        if (fd < 0) {
            return -1;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment value = arena.allocate(ValueLayout.JAVA_INT);
            return Libc.read(fd, value.address(), Integer.BYTES) == Integer.BYTES ? value.get(ValueLayout.JAVA_INT, 0) : -1;
        } finally {
            Libc.close(fd);
        }
    }

    /** Whether the request is in force. */
    public boolean held() {
        return fd >= 0;
    }

    /** Why the request is not in force, or null while it is. */
    public String why() {
        return held() ? null : why;
    }

    /** Drops the request (idempotent). */
    @Override
    public void close() {
        if (fd >= 0) {
            Libc.close(fd);
            fd = -1;
        }
    }
}
