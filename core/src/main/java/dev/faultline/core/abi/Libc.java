package dev.faultline.core.abi;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The libc functions Faultline calls, bound once through java.lang.foreign.
 *
 * <p>Every function that can fail returns the kernel's convention: a non-negative result, or the
 * negative errno ({@code -EEXIST}). Nothing here throws or allocates, so these calls may sit on a
 * handler's hot path; callers decide which errnos are failures. Pointers are passed as raw
 * {@code long} addresses (x86-64 SysV passes both in the same registers), which keeps the hot path
 * free of {@link MemorySegment} wrappers.
 *
 * <p>Touching memory registered with a userfaultfd must go through {@link #memset} or
 * {@link #memcpy}: the calling thread then blocks in native state, never inside Java code, so a
 * safepoint can always complete (docs/design.md §5). None of the handles is marked critical because
 * any of them may block.
 */
public final class Libc {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LOOKUP = LINKER.defaultLookup();
    private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO =
            CALL_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final Linker.Option CAPTURE_ERRNO = Linker.Option.captureCallState("errno");

    private static final MethodHandle SYSCALL_1 = bind("syscall",
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG), 1);
    private static final MethodHandle SYSCALL_2 = bind("syscall",
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG), 1);
    private static final MethodHandle IOCTL = bind("ioctl",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG), 2);
    private static final MethodHandle OPEN = bind("open",
            FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_INT), 2);
    private static final MethodHandle CLOSE = bind("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT), -1);
    private static final MethodHandle READ = bind("read",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG), -1);
    private static final MethodHandle WRITE = bind("write",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG), -1);
    private static final MethodHandle POLL = bind("poll",
            FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_INT), -1);
    private static final MethodHandle MMAP = bind("mmap",
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG), -1);
    private static final MethodHandle MUNMAP = bind("munmap",
            FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG), -1);
    private static final MethodHandle MREMAP = bind("mremap",
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_LONG), 4);
    private static final MethodHandle LINKAT = bind("linkat",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_INT), -1);
    private static final MethodHandle MADVISE = bind("madvise",
            FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_INT), -1);
    private static final MethodHandle MEMFD_CREATE = bind("memfd_create",
            FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_INT), -1);
    private static final MethodHandle FTRUNCATE = bind("ftruncate",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG), -1);
    private static final MethodHandle PIPE2 = bind("pipe2",
            FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_INT), -1);
    private static final MethodHandle WAITPID = bind("waitpid",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_INT), -1);
    private static final MethodHandle KILL = bind("kill",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT), -1);
    private static final MethodHandle GETTID = bind("gettid", FunctionDescriptor.of(JAVA_INT), -1);
    private static final MethodHandle SCHED_SETSCHEDULER = bind("sched_setscheduler",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG), -1);

    private static final MethodHandle SCHED_SETAFFINITY = bind("sched_setaffinity",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG), -1);
    private static final MethodHandle SCHED_GETAFFINITY = bind("sched_getaffinity",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG), -1);

    private static final MethodHandle EXIT = LINKER.downcallHandle(find("_exit"),
            FunctionDescriptor.ofVoid(JAVA_INT));
    private static final MethodHandle MEMSET = LINKER.downcallHandle(find("memset"),
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_LONG));
    private static final MethodHandle MEMCPY = LINKER.downcallHandle(find("memcpy"),
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG));
    private static final MethodHandle MEMCMP = LINKER.downcallHandle(find("memcmp"),
            FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG));

    /** {@code __NR_fork} on x86-64. */
    private static final long SYS_fork = 57;

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
        return LOOKUP.find(name).orElseThrow(() -> new UnsatisfiedLinkError("libc has no " + name));
    }

    private static MethodHandle bind(String name, FunctionDescriptor fd, int firstVariadic) {
        Linker.Option[] options = firstVariadic >= 0
                ? new Linker.Option[] {CAPTURE_ERRNO, Linker.Option.firstVariadicArg(firstVariadic)}
                : new Linker.Option[] {CAPTURE_ERRNO};
        return LINKER.downcallHandle(find(name), fd, options);
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

    /** {@code syscall(nr, arg)}: the result or -errno. */
    public static long syscall(long nr, long arg) {
        Scratch s = scratch();
        try {
            return check((long) SYSCALL_1.invokeExact(s.callState, nr, arg), s);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code syscall(nr, a, b)}: the result or -errno. */
    public static long syscall(long nr, long a, long b) {
        Scratch s = scratch();
        try {
            return check((long) SYSCALL_2.invokeExact(s.callState, nr, a, b), s);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code __NR_pidfd_open} on x86-64. */
    private static final long SYS_pidfd_open = 434;

    /** {@code pidfd_open(pid, 0)}: a file descriptor that polls readable once the process has exited, or -errno. */
    public static int pidfdOpen(int pid) {
        return (int) syscall(SYS_pidfd_open, pid, 0);
    }

    /** {@code __NR_prctl} on x86-64. */
    private static final long SYS_prctl = 157;

    /**
     * {@code prctl(PR_SET_TIMERSLACK, nanos)}: how late the kernel may end the calling thread's
     * timed sleeps to batch wakeups (50 µs by default, so a 10 µs park can last 60); 0 or -errno.
     */
    public static int setTimerSlack(long nanos) {
        return (int) syscall(SYS_prctl, MmanAbi.PR_SET_TIMERSLACK, nanos);
    }

    /** {@code ioctl(fd, request, arg)} where arg is an address or a plain integer: result or -errno. */
    public static int ioctl(int fd, long request, long arg) {
        Scratch s = scratch();
        try {
            return (int) check((int) IOCTL.invokeExact(s.callState, fd, request, arg), s);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code open(path, flags)}: the fd or -errno. */
    public static int open(String path, int flags) {
        return open(path, flags, 0);
    }

    /** {@code open(path, flags, mode)} (mode for O_CREAT and O_TMPFILE): the fd or -errno. */
    public static int open(String path, int flags, int mode) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment p = arena.allocateFrom(path);
            Scratch s = scratch();
            return (int) check((int) OPEN.invokeExact(s.callState, p.address(), flags, mode), s);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code linkat(olddirfd, oldpath, newdirfd, newpath, flags)}: 0 or -errno. */
    public static int linkat(int oldDir, String oldPath, int newDir, String newPath, int flags) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment from = arena.allocateFrom(oldPath);
            MemorySegment to = arena.allocateFrom(newPath);
            Scratch s = scratch();
            return (int) check((int) LINKAT.invokeExact(s.callState, oldDir, from.address(), newDir, to.address(), flags), s);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code close(fd)}: 0 or -errno. */
    public static int close(int fd) {
        Scratch s = scratch();
        try {
            return (int) check((int) CLOSE.invokeExact(s.callState, fd), s);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code read(fd, buf, count)}: bytes read or -errno. */
    public static long read(int fd, long buf, long count) {
        Scratch s = scratch();
        try {
            return check((long) READ.invokeExact(s.callState, fd, buf, count), s);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code write(fd, buf, count)}: bytes written or -errno. */
    public static long write(int fd, long buf, long count) {
        Scratch s = scratch();
        try {
            return check((long) WRITE.invokeExact(s.callState, fd, buf, count), s);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code poll(fds, nfds, timeoutMillis)}: ready count, 0 on timeout, or -errno. */
    public static int poll(long fds, long nfds, int timeoutMillis) {
        Scratch s = scratch();
        try {
            return (int) check((int) POLL.invokeExact(s.callState, fds, nfds, timeoutMillis), s);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code mmap(...)}: the address or -errno (MAP_FAILED is turned into -errno). */
    public static long mmap(long addr, long length, int prot, int flags, int fd, long offset) {
        Scratch s = scratch();
        try {
            return check((long) MMAP.invokeExact(s.callState, addr, length, prot, flags, fd, offset), s);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code munmap(addr, length)}: 0 or -errno. */
    public static int munmap(long addr, long length) {
        Scratch s = scratch();
        try {
            return (int) check((int) MUNMAP.invokeExact(s.callState, addr, length), s);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code mremap(old, oldSize, newSize, flags, newAddress)}: the new address or -errno. */
    public static long mremap(long oldAddr, long oldSize, long newSize, int flags, long newAddr) {
        Scratch s = scratch();
        try {
            return check((long) MREMAP.invokeExact(s.callState, oldAddr, oldSize, newSize, flags, newAddr), s);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code madvise(addr, length, advice)}: 0 or -errno. */
    public static int madvise(long addr, long length, int advice) {
        Scratch s = scratch();
        try {
            return (int) check((int) MADVISE.invokeExact(s.callState, addr, length, advice), s);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code memfd_create(name, flags)}: the fd or -errno. */
    public static int memfdCreate(String name, int flags) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment n = arena.allocateFrom(name);
            Scratch s = scratch();
            return (int) check((int) MEMFD_CREATE.invokeExact(s.callState, n.address(), flags), s);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code ftruncate(fd, length)}: 0 or -errno. */
    public static int ftruncate(int fd, long length) {
        Scratch s = scratch();
        try {
            return (int) check((int) FTRUNCATE.invokeExact(s.callState, fd, length), s);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code pipe2(fds, flags)} into a two-int array at {@code fds}: 0 or -errno. */
    public static int pipe2(long fds, int flags) {
        Scratch s = scratch();
        try {
            return (int) check((int) PIPE2.invokeExact(s.callState, fds, flags), s);
        } catch (Throwable t) {
            throw rethrow(t);
        }
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

    /** {@code _exit(status)}: ends the process at once, without running Java shutdown hooks. */
    public static void exit(int status) {
        try {
            EXIT.invokeExact(status);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code waitpid(pid, status, options)}: the pid, 0 (WNOHANG, still running) or -errno. */
    public static int waitpid(int pid, long status, int options) {
        Scratch s = scratch();
        try {
            return (int) check((int) WAITPID.invokeExact(s.callState, pid, status, options), s);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code kill(pid, signal)}: 0 or -errno. */
    public static int kill(int pid, int signal) {
        Scratch s = scratch();
        try {
            return (int) check((int) KILL.invokeExact(s.callState, pid, signal), s);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * {@code sched_setscheduler(tid, policy, &{priority 0})}: sets thread {@code tid}'s policy
     * (SCHED_OTHER, SCHED_BATCH or SCHED_IDLE, which take priority 0); 0 or -errno.
     */
    public static int setScheduler(int tid, int policy) {
        Scratch s = scratch();
        s.arg.set(JAVA_INT, 0, 0);
        try {
            return (int) check((int) SCHED_SETSCHEDULER.invokeExact(s.callState, tid, policy, s.arg.address()), s);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * {@code sched_setaffinity(tid, 8, &mask)}: lets thread {@code tid} run only on the CPUs whose
     * bits are set in {@code mask} (CPUs 0-63); 0 or -errno.
     */
    public static int setAffinity(int tid, long mask) {
        Scratch s = scratch();
        s.arg.set(JAVA_LONG, 0, mask);
        try {
            return (int) check((int) SCHED_SETAFFINITY.invokeExact(s.callState, tid, 8L, s.arg.address()), s);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * {@code sched_getaffinity(tid, 8, &mask)}: the CPUs thread {@code tid} (0: the caller) may run
     * on, as a mask of CPUs 0-63; -errno (EINVAL on a machine with more than 64 CPUs).
     */
    public static long getAffinity(int tid) {
        Scratch s = scratch();
        s.arg.set(JAVA_LONG, 0, 0L);
        try {
            int rc = (int) check((int) SCHED_GETAFFINITY.invokeExact(s.callState, tid, 8L, s.arg.address()), s);
            return rc < 0 ? rc : s.arg.get(JAVA_LONG, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code gettid()}: the calling thread's kernel thread id, as uffd_msg reports it. */
    public static int gettid() {
        Scratch s = scratch();
        try {
            return (int) GETTID.invokeExact(s.callState);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code memset(dst, value, count)}: a native write that may fault on registered memory. */
    public static void memset(long dst, int value, long count) {
        try {
            long ignored = (long) MEMSET.invokeExact(dst, value, count);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code memcmp(a, b, count)}: 0 when the bytes are equal; compares in native code, so it may read registered memory. */
    public static int memcmp(long a, long b, long count) {
        try {
            return (int) MEMCMP.invokeExact(a, b, count);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code memcpy(dst, src, count)}: a native copy that may fault on registered memory. */
    public static void memcpy(long dst, long src, long count) {
        try {
            long ignored = (long) MEMCPY.invokeExact(dst, src, count);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }
}
