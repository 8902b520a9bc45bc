package dev.faultline.collector.passive;

import dev.faultline.core.abi.Libc;
import dev.faultline.core.abi.MmanAbi;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Waits on a process's exit through a pidfd: {@link #await} sleeps up to a timeout and returns at
 * once when the process exits (zombie or reaped), so a capture ends promptly without reading
 * /proc over and over. Where pidfd_open is refused (a kernel before 5.3), it falls back to
 * sleeping and reading /proc/PID/stat.
 */
final class ProcessExit implements AutoCloseable {
    private final int pid;
    private final int pidfd;
    private final Arena arena = Arena.ofConfined();
    private final MemorySegment pollfd = arena.allocate(8, 4);

    ProcessExit(int pid) {
        this.pid = pid;
        this.pidfd = Libc.pidfdOpen(pid);
        if (pidfd >= 0) {
            pollfd.set(ValueLayout.JAVA_INT, 0, pidfd);
            pollfd.set(ValueLayout.JAVA_SHORT, 4, (short) MmanAbi.POLLIN);
        }
    }

    /** Sleeps up to {@code millis}; true if the process has exited. */
    boolean await(int millis) {
        if (pidfd < 0) {
            java.util.concurrent.locks.LockSupport.parkNanos(millis * 1_000_000L);
            return PassiveCapture.exited(pid);
        }
        pollfd.set(ValueLayout.JAVA_SHORT, 6, (short) 0);
        int n = Libc.poll(pollfd.address(), 1, millis);
        return n > 0 || n < 0 && n != -dev.faultline.core.abi.Errno.EINTR;
    }

    @Override
    public void close() {
        if (pidfd >= 0) {
            Libc.close(pidfd);
        }
        arena.close();
    }
}
