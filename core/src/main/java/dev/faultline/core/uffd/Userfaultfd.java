package dev.faultline.core.uffd;

import dev.faultline.core.abi.Errno;
import dev.faultline.core.abi.KernelException;
import dev.faultline.core.abi.Libc;
import dev.faultline.core.abi.MmanAbi;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import static dev.faultline.core.abi.UffdAbi.*;

/**
 * One userfaultfd: opening it, the API handshake, registering ranges and every resolving ioctl.
 *
 * <p>The fd is opened non-blocking and close-on-exec. Resolving ioctls ({@link #copy},
 * {@link #zeropage}, {@link #continueMinor}, {@link #writeProtect}, {@link #move},
 * {@link #poison}, {@link #wake}) and {@link #read} allocate nothing and may be called from any
 * number of handler threads at once: each thread uses its own native scratch space. They return
 * the number of bytes handled, or {@code -EEXIST} / {@code -EAGAIN} — the normal outcomes when
 * another resolver won a race or the address space changed under the ioctl — and throw
 * {@link KernelException}, naming the ioctl, its range and the errno, for any other failure.
 *
 * <p>Closing the fd wakes every thread still blocked on one of its faults; the kernel then
 * handles their faults as if the range were not registered.
 */
public final class Userfaultfd implements AutoCloseable {

    /** How the fd was obtained (docs/design.md §4). */
    public enum OpenedVia {
        /** {@code userfaultfd(2)}: root or CAP_SYS_PTRACE, or vm.unprivileged_userfaultfd=1. */
        SYSCALL("syscall"),
        /** {@code ioctl(open("/dev/userfaultfd"), USERFAULTFD_IOC_NEW)}: access to the device. */
        DEV("dev"),
        /** {@code userfaultfd(UFFD_USER_MODE_ONLY)}: only faults taken in user mode are reported. */
        USER_MODE_ONLY("user-mode-only");

        private final String label;

        OpenedVia(String label) {
            this.label = label;
        }

        /** The name used in probe output. */
        public String label() {
            return label;
        }
    }

    private static volatile long supportedFeatures = -1;
    private static volatile long supportedIoctls;

    private final int fd;
    private final OpenedVia openedVia;
    private final long features;
    private volatile boolean closed;

    private Userfaultfd(int fd, OpenedVia openedVia, long features) {
        this.fd = fd;
        this.openedVia = openedVia;
        this.features = features;
    }

    /**
     * Opens a userfaultfd the best way this process may (syscall, then /dev/userfaultfd, then
     * user-mode-only) and requests {@code features} — all of them, except that EVENT_FORK, which the
     * kernel grants only with CAP_SYS_PTRACE, is dropped where it is refused with EPERM ({@link
     * #features()} says what was granted; a child then simply does not inherit the registration).
     *
     * @throws KernelException if no way works, or the kernel refuses a requested feature
     */
    public static Userfaultfd open(long features) {
        KernelException last = null;
        long fork = UffdFeature.EVENT_FORK.mask();
        for (OpenedVia via : OpenedVia.values()) {
            int fd;
            try {
                fd = rawOpen(via);
            } catch (KernelException e) {
                if (e.errno() != Errno.EPERM && e.errno() != Errno.EACCES && e.errno() != Errno.ENOENT
                        && e.errno() != Errno.ENOSYS) {
                    throw e;
                }
                last = e;
                continue;
            }
            long granted = features;
            try {
                try {
                    handshake(fd, granted);
                } catch (KernelException e) {
                    if (e.errno() != Errno.EPERM || (granted & fork) == 0) {
                        throw e;
                    }
                    Libc.close(fd); // a failed UFFDIO_API is not retried on the same fd: start afresh without EVENT_FORK
                    fd = -1;
                    fd = rawOpen(via);
                    granted &= ~fork;
                    handshake(fd, granted);
                }
            } catch (RuntimeException e) {
                if (fd >= 0) {
                    Libc.close(fd);
                }
                throw e;
            }
            return new Userfaultfd(fd, via, granted);
        }
        throw last;
    }

    /** Opens a userfaultfd in the given way only, requesting exactly {@code features}. */
    public static Userfaultfd open(long features, OpenedVia via) {
        int fd = rawOpen(via);
        try {
            handshake(fd, features);
        } catch (RuntimeException e) {
            Libc.close(fd);
            throw e;
        }
        return new Userfaultfd(fd, via, features);
    }

    private static int rawOpen(OpenedVia via) {
        int flags = MmanAbi.O_CLOEXEC | MmanAbi.O_NONBLOCK;
        return switch (via) {
            case SYSCALL -> checked("userfaultfd(O_CLOEXEC|O_NONBLOCK)",
                    (int) Libc.syscall(SYS_userfaultfd, flags));
            case USER_MODE_ONLY -> checked("userfaultfd(UFFD_USER_MODE_ONLY)",
                    (int) Libc.syscall(SYS_userfaultfd, flags | UFFD_USER_MODE_ONLY));
            case DEV -> {
                int dev = checked("open /dev/userfaultfd", Libc.open("/dev/userfaultfd",
                        MmanAbi.O_RDWR | MmanAbi.O_CLOEXEC));
                try {
                    yield checked("ioctl(/dev/userfaultfd, USERFAULTFD_IOC_NEW)",
                            Libc.ioctl(dev, USERFAULTFD_IOC_NEW, flags));
                } finally {
                    Libc.close(dev);
                }
            }
        };
    }

    private static int checked(String attempted, int rc) {
        if (rc < 0) {
            throw new KernelException(attempted, -rc);
        }
        return rc;
    }

    private static long handshake(int fd, long features) {
        MemorySegment api = Libc.scratch().arg;
        api.set(JAVA_LONG, UFFDIO_API_API, UFFD_API);
        api.set(JAVA_LONG, UFFDIO_API_FEATURES, features);
        api.set(JAVA_LONG, UFFDIO_API_IOCTLS, 0L);
        int rc = Libc.ioctl(fd, UFFDIO_API, api.address());
        if (rc < 0) {
            throw new KernelException("UFFDIO_API features=" + String.join("|", UffdFeature.names(features)), -rc);
        }
        supportedIoctls = api.get(JAVA_LONG, UFFDIO_API_IOCTLS);
        return api.get(JAVA_LONG, UFFDIO_API_FEATURES);
    }

    /**
     * Every feature bit this kernel reports (UFFDIO_API with features=0 on a throwaway fd),
     * including bits this code has no name for. Cached after the first call.
     */
    public static long supportedFeatures() {
        long f = supportedFeatures;
        if (f < 0) {
            int fd = -1;
            KernelException last = null;
            for (OpenedVia via : OpenedVia.values()) {
                try {
                    fd = rawOpen(via);
                    break;
                } catch (KernelException e) {
                    last = e;
                }
            }
            if (fd < 0) {
                throw last;
            }
            try {
                f = handshake(fd, 0);
            } finally {
                Libc.close(fd);
            }
            supportedFeatures = f;
        }
        return f;
    }

    /** The fd number. */
    public int fd() {
        return fd;
    }

    /** How the fd was opened. */
    public OpenedVia openedVia() {
        return openedVia;
    }

    /** The features requested in the handshake (and granted: the handshake fails otherwise). */
    public long features() {
        return features;
    }

    /** Whether every bit of {@code feature} was granted. */
    public boolean has(UffdFeature feature) {
        return feature.in(features);
    }

    // ---- registration ----------------------------------------------------------------------

    /**
     * UFFDIO_REGISTER of [start, start+length) in {@code modes} ({@link RegisterMode} bits).
     *
     * @return the registration with the ioctls the kernel supports on the range
     */
    public Registration register(long start, long length, long modes) {
        MemorySegment reg = Libc.scratch().arg;
        reg.set(JAVA_LONG, UFFDIO_RANGE_START, start);
        reg.set(JAVA_LONG, UFFDIO_RANGE_LEN, length);
        reg.set(JAVA_LONG, UFFDIO_REGISTER_MODE, modes);
        reg.set(JAVA_LONG, UFFDIO_REGISTER_IOCTLS, 0L);
        int rc = Libc.ioctl(fd, UFFDIO_REGISTER, reg.address());
        if (rc < 0) {
            throw new KernelException("UFFDIO_REGISTER " + range(start, length) + " mode="
                    + RegisterMode.names(modes), -rc);
        }
        return new Registration(start, length, modes,
                reg.get(JAVA_LONG, UFFDIO_REGISTER_IOCTLS));
    }

    /** UFFDIO_UNREGISTER of [start, start+length). */
    public void unregister(long start, long length) {
        int rc = rangeIoctl(UFFDIO_UNREGISTER, start, length);
        if (rc < 0) {
            throw new KernelException("UFFDIO_UNREGISTER " + range(start, length), -rc);
        }
    }

    // ---- resolving ---------------------------------------------------------------------------

    /** UFFDIO_COPY of {@code length} bytes from {@code src} to {@code dst}; mode: COPY_MODE_* bits. */
    public long copy(long dst, long src, long length, long mode) {
        MemorySegment a = Libc.scratch().arg;
        a.set(JAVA_LONG, UFFDIO_COPY_DST, dst);
        a.set(JAVA_LONG, UFFDIO_COPY_SRC, src);
        a.set(JAVA_LONG, UFFDIO_COPY_LEN, length);
        a.set(JAVA_LONG, UFFDIO_COPY_MODE, mode);
        a.set(JAVA_LONG, UFFDIO_COPY_COPY, 0L);
        int rc = Libc.ioctl(fd, UFFDIO_COPY, a.address());
        return outcome(rc, a.get(JAVA_LONG, UFFDIO_COPY_COPY), "UFFDIO_COPY", dst, length);
    }

    /** UFFDIO_ZEROPAGE of [start, start+length); mode: ZEROPAGE_MODE_DONTWAKE or 0. */
    public long zeropage(long start, long length, long mode) {
        MemorySegment a = rangeArg(start, length);
        a.set(JAVA_LONG, UFFDIO_ZEROPAGE_MODE, mode);
        a.set(JAVA_LONG, UFFDIO_ZEROPAGE_ZEROPAGE, 0L);
        int rc = Libc.ioctl(fd, UFFDIO_ZEROPAGE, a.address());
        return outcome(rc, a.get(JAVA_LONG, UFFDIO_ZEROPAGE_ZEROPAGE), "UFFDIO_ZEROPAGE", start, length);
    }

    /** UFFDIO_CONTINUE of [start, start+length): map what the page cache holds; CONTINUE_MODE_* bits. */
    public long continueMinor(long start, long length, long mode) {
        MemorySegment a = rangeArg(start, length);
        a.set(JAVA_LONG, UFFDIO_CONTINUE_MODE, mode);
        a.set(JAVA_LONG, UFFDIO_CONTINUE_MAPPED, 0L);
        int rc = Libc.ioctl(fd, UFFDIO_CONTINUE, a.address());
        return outcome(rc, a.get(JAVA_LONG, UFFDIO_CONTINUE_MAPPED), "UFFDIO_CONTINUE", start, length);
    }

    /**
     * UFFDIO_WRITEPROTECT of [start, start+length): mode WRITEPROTECT_MODE_WP protects, 0
     * un-protects (and wakes, unless WRITEPROTECT_MODE_DONTWAKE).
     *
     * @return {@code length}, or -EAGAIN
     */
    public long writeProtect(long start, long length, long mode) {
        MemorySegment a = rangeArg(start, length);
        a.set(JAVA_LONG, UFFDIO_WRITEPROTECT_MODE, mode);
        int rc = Libc.ioctl(fd, UFFDIO_WRITEPROTECT, a.address());
        return outcome(rc, rc < 0 ? rc : length, "UFFDIO_WRITEPROTECT", start, length);
    }

    /** UFFDIO_MOVE of {@code length} bytes from {@code src} to {@code dst}; MOVE_MODE_* bits. */
    public long move(long dst, long src, long length, long mode) {
        MemorySegment a = Libc.scratch().arg;
        a.set(JAVA_LONG, UFFDIO_MOVE_DST, dst);
        a.set(JAVA_LONG, UFFDIO_MOVE_SRC, src);
        a.set(JAVA_LONG, UFFDIO_MOVE_LEN, length);
        a.set(JAVA_LONG, UFFDIO_MOVE_MODE, mode);
        a.set(JAVA_LONG, UFFDIO_MOVE_MOVE, 0L);
        int rc = Libc.ioctl(fd, UFFDIO_MOVE, a.address());
        return outcome(rc, a.get(JAVA_LONG, UFFDIO_MOVE_MOVE), "UFFDIO_MOVE", dst, length);
    }

    /** UFFDIO_POISON of [start, start+length): later accesses get SIGBUS (EFAULT in the kernel). */
    public long poison(long start, long length, long mode) {
        MemorySegment a = rangeArg(start, length);
        a.set(JAVA_LONG, UFFDIO_POISON_MODE, mode);
        a.set(JAVA_LONG, UFFDIO_POISON_UPDATED, 0L);
        int rc = Libc.ioctl(fd, UFFDIO_POISON, a.address());
        return outcome(rc, a.get(JAVA_LONG, UFFDIO_POISON_UPDATED), "UFFDIO_POISON", start, length);
    }

    /** UFFDIO_WAKE of [start, start+length): wakes threads left waiting by a DONTWAKE resolve. */
    public void wake(long start, long length) {
        int rc = rangeIoctl(UFFDIO_WAKE, start, length);
        if (rc < 0) {
            throw new KernelException("UFFDIO_WAKE " + range(start, length), -rc);
        }
    }

    private MemorySegment rangeArg(long start, long length) {
        MemorySegment a = Libc.scratch().arg;
        a.set(JAVA_LONG, UFFDIO_RANGE_START, start);
        a.set(JAVA_LONG, UFFDIO_RANGE_LEN, length);
        return a;
    }

    private int rangeIoctl(long request, long start, long length) {
        return Libc.ioctl(fd, request, rangeArg(start, length).address());
    }

    /**
     * The outcome of a resolving ioctl: the count the kernel wrote back, or -EEXIST/-EAGAIN, which
     * are reported; any other failure throws.
     */
    private static long outcome(int rc, long written, String op, long start, long length) {
        if (rc >= 0) {
            return written;
        }
        int errno = -rc;
        if (errno == Errno.EEXIST || errno == Errno.EAGAIN) {
            return -errno;
        }
        throw new KernelException(op + " " + range(start, length), errno);
    }

    private static String range(long start, long length) {
        return "[0x" + Long.toHexString(start) + ", +" + length + ")";
    }

    // ---- reading ---------------------------------------------------------------------------

    /**
     * Reads as many pending messages as fit into {@code buffer} in one read(2).
     *
     * @return the number of messages (also {@link UffdMessageBuffer#count()}), 0 if none pending
     */
    public int read(UffdMessageBuffer buffer) {
        long n = Libc.read(fd, buffer.address(), buffer.byteSize());
        if (n < 0) {
            int errno = (int) -n;
            if (errno == Errno.EAGAIN || errno == Errno.EINTR) {
                buffer.setCount(0);
                return 0;
            }
            throw new KernelException("read(userfaultfd " + fd + ")", errno);
        }
        int count = (int) (n / SIZEOF_UFFD_MSG);
        buffer.setCount(count);
        return count;
    }

    /**
     * Waits up to {@code timeoutMillis} (-1: forever) for a message.
     *
     * @return whether a message is pending
     */
    public boolean awaitReadable(int timeoutMillis) {
        MemorySegment pfd = Libc.scratch().arg;
        pfd.set(JAVA_INT, 0, fd);
        pfd.set(JAVA_SHORT, 4, (short) MmanAbi.POLLIN);
        pfd.set(JAVA_SHORT, 6, (short) 0);
        int rc = Libc.poll(pfd.address(), 1, timeoutMillis);
        if (rc < 0 && rc != -Errno.EINTR) {
            throw new KernelException("poll(userfaultfd " + fd + ")", -rc);
        }
        return rc > 0;
    }

    /** The ioctl bits the last handshake in this process reported (_UFFDIO_* bits). */
    public static long apiIoctls() {
        return supportedIoctls;
    }

    /** Closes the fd, waking every thread still waiting on one of its faults. Idempotent. */
    @Override
    public void close() {
        if (!closed) {
            closed = true;
            Libc.close(fd);
        }
    }

    @Override
    public String toString() {
        return "userfaultfd " + fd + " (" + openedVia.label() + ", features "
                + String.join("|", UffdFeature.names(features)) + ")";
    }
}
