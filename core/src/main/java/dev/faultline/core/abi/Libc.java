package dev.faultline.core.abi;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The system calls and libc functions Faultline calls, through java.lang.foreign.
 *
 * <p>Every system call goes through one downcall handle, libc's {@code syscall(nr, a, b, c, d, e, f)}:
 * the FFM linker spins a stub (classes generated at run time) for each function shape it binds, and
 * those stubs are most of a JVM's start where instructions are emulated (a guest under TCG: 4.4-6.5 s
 * for the two dozen shapes that binding each function once cost, against ~0.9 s for this one;
 * docs/kernels.md). The few libc functions that are not system calls ({@code memset}, {@code memcpy},
 * {@code memcmp}) are each bound at their first use.
 *
 * <p>Every function that can fail returns the kernel's convention: a non-negative result, or the
 * negative errno ({@code -EEXIST}). Nothing here throws or allocates, so these calls may sit on a
 * handler's hot path; callers decide which errnos are failures. Pointers are passed as raw
 * {@code long} addresses (x86-64 SysV passes both in the same registers), which keeps the hot path
 * free of {@link MemorySegment} wrappers; a system call's unused arguments are passed as 0 and
 * ignored by the kernel.
 *
 * <p>Touching memory registered with a userfaultfd must go through {@link #memset} or
 * {@link #memcpy}: the calling thread then blocks in native state, never inside Java code, so a
 * safepoint can always complete (docs/design.md §5). None of the handles is marked critical because
 * any of them may block.
 */
public final class Libc {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO =
            CALL_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    /** {@code long syscall(long nr, ...)} with six arguments, errno captured. */
    private static final MethodHandle SYSCALL = LINKER.downcallHandle(find("syscall"),
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG),
            Linker.Option.captureCallState("errno"), Linker.Option.firstVariadicArg(1));

    // x86-64 system call numbers (arch/x86/entry/syscalls/syscall_64.tbl)
    private static final long SYS_read = 0;
    private static final long SYS_write = 1;
    private static final long SYS_close = 3;
    private static final long SYS_poll = 7;
    private static final long SYS_mmap = 9;
    private static final long SYS_munmap = 11;
    private static final long SYS_ioctl = 16;
    private static final long SYS_mremap = 25;
    private static final long SYS_madvise = 28;
    private static final long SYS_fork = 57;
    private static final long SYS_wait4 = 61;
    private static final long SYS_kill = 62;
    private static final long SYS_ftruncate = 77;
    private static final long SYS_sched_setscheduler = 144;
    private static final long SYS_prctl = 157;
    private static final long SYS_gettid = 186;
    private static final long SYS_exit_group = 231;
    private static final long SYS_sched_setaffinity = 203;
    private static final long SYS_sched_getaffinity = 204;
    private static final long SYS_openat = 257;
    private static final long SYS_linkat = 265;
    private static final long SYS_pipe2 = 293;
    private static final long SYS_memfd_create = 319;
    private static final long SYS_pidfd_open = 434;

    /** {@code memset}, bound at its first use. */
    private static final class Memset {
        static final MethodHandle HANDLE = LINKER.downcallHandle(find("memset"),
                FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_LONG));
    }

    /** {@code memcpy}, bound at its first use. */
    private static final class Memcpy {
        static final MethodHandle HANDLE = LINKER.downcallHandle(find("memcpy"),
                FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG));
    }

    /** {@code memcmp}, bound at its first use. */
    private static final class Memcmp {
        static final MethodHandle HANDLE = LINKER.downcallHandle(find("memcmp"),
                FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG));
    }

    /** Per-thread space for the captured errno and for ioctl argument structs. */
    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private Libc() {
    }

    /**
     * One thread's native scratch space: the captured call state and {@link #ARG_BYTES} bytes for
     * an ioctl's argument struct. Never shared between threads; lives as long as the thread.
     */
    public static final class Scratch {
        /** Bytes available in {@link #arg}. */
        public static final int ARG_BYTES = 256;
        final MemorySegment callState;
        /** Space for one ioctl argument struct. */
        public final MemorySegment arg;

        Scratch() {
            Arena arena = Arena.ofAuto();
            callState = arena.allocate(CALL_STATE);
            arg = arena.allocate(ARG_BYTES, 16);
        }

        int errno() {
            return (int) ERRNO.get(callState, 0L);
        }
    }

    /** This thread's scratch space (allocated on the thread's first call, then reused). */
    public static Scratch scratch() {
        return SCRATCH.get();
    }

    private static MemorySegment find(String name) {
        return LINKER.defaultLookup().find(name).orElseThrow(() -> new UnsatisfiedLinkError("libc has no " + name));
    }

    /** {@code t} as an unchecked exception (an Error is thrown as is): what a downcall's invokeExact may throw. */
    static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            return r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return new IllegalStateException(t);
    }

    private static long check(long rc, Scratch s) {
        return rc == -1 ? -s.errno() : rc;
    }

    /** {@code syscall(nr, a, b, c, d, e, f)}: the result or -errno. */
    private static long syscall(long nr, long a, long b, long c, long d, long e, long f) {
        Scratch s = scratch();
        try {
            return check((long) SYSCALL.invokeExact(s.callState, nr, a, b, c, d, e, f), s);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code syscall(nr, arg)}: the result or -errno. */
    public static long syscall(long nr, long arg) {
        return syscall(nr, arg, 0, 0, 0, 0, 0);
    }

    /** {@code syscall(nr, a, b)}: the result or -errno. */
    public static long syscall(long nr, long a, long b) {
        return syscall(nr, a, b, 0, 0, 0, 0);
    }

    /** {@code syscall(nr, a, b, c)}: the result or -errno. */
    private static long syscall(long nr, long a, long b, long c) {
        return syscall(nr, a, b, c, 0, 0, 0);
    }

    /** {@code pidfd_open(pid, 0)}: a file descriptor that polls readable once the process has exited, or -errno. */
    public static int pidfdOpen(int pid) {
        return (int) syscall(SYS_pidfd_open, pid, 0);
    }

    /**
     * {@code prctl(PR_SET_TIMERSLACK, nanos)}: how late the kernel may end the calling thread's
     * timed sleeps to batch wakeups (50 µs by default, so a 10 µs park can last 60); 0 or -errno.
     */
    public static int setTimerSlack(long nanos) {
        return (int) syscall(SYS_prctl, MmanAbi.PR_SET_TIMERSLACK, nanos);
    }

    /** {@code ioctl(fd, request, arg)} where arg is an address or a plain integer: result or -errno. */
    public static int ioctl(int fd, long request, long arg) {
        return (int) syscall(SYS_ioctl, fd, request, arg);
    }

    /** {@code open(path, flags)}: the fd or -errno. */
    public static int open(String path, int flags) {
        return open(path, flags, 0);
    }

    /** {@code open(path, flags, mode)} (mode for O_CREAT and O_TMPFILE): the fd or -errno. */
    public static int open(String path, int flags, int mode) {
        try (Arena arena = Arena.ofConfined()) {
            return (int) syscall(SYS_openat, MmanAbi.AT_FDCWD, arena.allocateFrom(path).address(), flags, mode, 0, 0);
        }
    }

    /** {@code linkat(olddirfd, oldpath, newdirfd, newpath, flags)}: 0 or -errno. */
    public static int linkat(int oldDir, String oldPath, int newDir, String newPath, int flags) {
        try (Arena arena = Arena.ofConfined()) {
            return (int) syscall(SYS_linkat, oldDir, arena.allocateFrom(oldPath).address(), newDir,
                    arena.allocateFrom(newPath).address(), flags, 0);
        }
    }

    /** {@code close(fd)}: 0 or -errno. */
    public static int close(int fd) {
        return (int) syscall(SYS_close, fd, 0);
    }

    /** {@code read(fd, buf, count)}: bytes read or -errno. */
    public static long read(int fd, long buf, long count) {
        return syscall(SYS_read, fd, buf, count);
    }

    /** {@code write(fd, buf, count)}: bytes written or -errno. */
    public static long write(int fd, long buf, long count) {
        return syscall(SYS_write, fd, buf, count);
    }

    /** {@code poll(fds, nfds, timeoutMillis)}: ready count, 0 on timeout, or -errno. */
    public static int poll(long fds, long nfds, int timeoutMillis) {
        return (int) syscall(SYS_poll, fds, nfds, timeoutMillis);
    }

    /** {@code mmap(...)}: the address or -errno (MAP_FAILED is turned into -errno). */
    public static long mmap(long addr, long length, int prot, int flags, int fd, long offset) {
        return syscall(SYS_mmap, addr, length, prot, flags, fd, offset);
    }

    /** {@code munmap(addr, length)}: 0 or -errno. */
    public static int munmap(long addr, long length) {
        return (int) syscall(SYS_munmap, addr, length);
    }

    /** {@code mremap(old, oldSize, newSize, flags, newAddress)}: the new address or -errno. */
    public static long mremap(long oldAddr, long oldSize, long newSize, int flags, long newAddr) {
        return syscall(SYS_mremap, oldAddr, oldSize, newSize, flags, newAddr, 0);
    }

    /** {@code madvise(addr, length, advice)}: 0 or -errno. */
    public static int madvise(long addr, long length, int advice) {
        return (int) syscall(SYS_madvise, addr, length, advice);
    }

    /** {@code memfd_create(name, flags)}: the fd or -errno. */
    public static int memfdCreate(String name, int flags) {
        try (Arena arena = Arena.ofConfined()) {
            return (int) syscall(SYS_memfd_create, arena.allocateFrom(name).address(), flags);
        }
    }

    /** {@code ftruncate(fd, length)}: 0 or -errno. */
    public static int ftruncate(int fd, long length) {
        return (int) syscall(SYS_ftruncate, fd, length);
    }

    /** {@code pipe2(fds, flags)} into a two-int array at {@code fds}: 0 or -errno. */
    public static int pipe2(long fds, int flags) {
        return (int) syscall(SYS_pipe2, fds, flags);
    }

    /**
     * A raw {@code fork} system call: the child's pid in the parent, 0 in the child, or -errno.
     *
     * <p>Not glibc's fork(): that one holds every malloc lock across the system call, and with
     * UFFD_FEATURE_EVENT_FORK the system call waits until a handler thread reads the FORK event —
     * a handler that mallocs (as the JVM does) would then deadlock the process. The child is a copy
     * of one thread with no JVM behind it: it may stop for good on its way back from the downcall
     * (a safepoint or lock pending at the fork), so the parent must be ready to SIGKILL and reap it.
     */
    public static int fork() {
        return (int) syscall(SYS_fork, 0);
    }

    /**
     * {@code _exit(status)} (the {@code exit_group} system call): ends the process at once, without
     * running Java shutdown hooks. Through the syscall handle, linked before any fork, so that a
     * forked child (see {@link #fork}) can end itself without linking anything.
     */
    public static void exit(int status) {
        syscall(SYS_exit_group, status);
    }

    /** {@code waitpid(pid, status, options)}: the pid, 0 (WNOHANG, still running) or -errno. */
    public static int waitpid(int pid, long status, int options) {
        return (int) syscall(SYS_wait4, pid, status, options, 0, 0, 0);
    }

    /** {@code kill(pid, signal)}: 0 or -errno. */
    public static int kill(int pid, int signal) {
        return (int) syscall(SYS_kill, pid, signal);
    }

    /**
     * {@code sched_setscheduler(tid, policy, &{priority 0})}: sets thread {@code tid}'s policy
     * (SCHED_OTHER, SCHED_BATCH or SCHED_IDLE, which take priority 0); 0 or -errno.
     */
    public static int setScheduler(int tid, int policy) {
        Scratch s = scratch();
        s.arg.set(JAVA_INT, 0, 0);
        return (int) syscall(SYS_sched_setscheduler, tid, policy, s.arg.address());
    }

    /**
     * {@code sched_setaffinity(tid, 8, &mask)}: lets thread {@code tid} run only on the CPUs whose
     * bits are set in {@code mask} (CPUs 0-63); 0 or -errno.
     */
    public static int setAffinity(int tid, long mask) {
        Scratch s = scratch();
        s.arg.set(JAVA_LONG, 0, mask);
        return (int) syscall(SYS_sched_setaffinity, tid, 8, s.arg.address());
    }

    /**
     * {@code sched_getaffinity(tid, 8, &mask)}: the CPUs thread {@code tid} (0: the caller) may run
     * on, as a mask of CPUs 0-63; -errno (EINVAL on a machine with more than 64 CPUs).
     */
    public static long getAffinity(int tid) {
        Scratch s = scratch();
        s.arg.set(JAVA_LONG, 0, 0L);
        long rc = syscall(SYS_sched_getaffinity, tid, 8, s.arg.address()); // the system call returns the bytes it wrote
        return rc < 0 ? rc : s.arg.get(JAVA_LONG, 0);
    }

    /** {@code gettid()}: the calling thread's kernel thread id, as uffd_msg reports it. */
    public static int gettid() {
        return (int) syscall(SYS_gettid, 0);
    }

    /** {@code memset(dst, value, count)}: a native write that may fault on registered memory. */
    public static void memset(long dst, int value, long count) {
        try {
            long ignored = (long) Memset.HANDLE.invokeExact(dst, value, count);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code memcmp(a, b, count)}: 0 when the bytes are equal; compares in native code, so it may read registered memory. */
    public static int memcmp(long a, long b, long count) {
        try {
            return (int) Memcmp.HANDLE.invokeExact(a, b, count);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code memcpy(dst, src, count)}: a native copy that may fault on registered memory. */
    public static void memcpy(long dst, long src, long count) {
        try {
            long ignored = (long) Memcpy.HANDLE.invokeExact(dst, src, count);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }
}
