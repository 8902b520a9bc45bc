package dev.faultline.core.abi;

/**
 * A system call or ioctl that the kernel refused. The message names what was attempted (the
 * operation and its range or arguments) and the errno by its kernel name, e.g.
 * {@code "UFFDIO_COPY dst=0x7f12a0000000 len=4096: EINVAL"}.
 *
 * <p>Invariant: {@link #errno()} is the positive errno the kernel answered.
 */
public class KernelException extends RuntimeException {
    private final String attempted;
    private final int errno;

    public KernelException(String attempted, int errno) {
        super(attempted + ": " + Errno.name(errno));
        this.attempted = attempted;
        this.errno = Math.abs(errno);
    }

    /** What was attempted, without the errno. */
    public String attempted() {
        return attempted;
    }

    /** The positive errno. */
    public int errno() {
        return errno;
    }

    /** The errno's kernel name, e.g. {@code EEXIST}. */
    public String errnoName() {
        return Errno.name(errno);
    }
}
