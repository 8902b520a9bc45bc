package dev.faultline.core.uffd;

/**
 * A range registered with a userfaultfd: its start and length, the modes ({@link RegisterMode}
 * bits) and the ioctls the kernel said the range supports ({@code uffdio_register.ioctls}).
 */
public record Registration(long start, long length, long modes, long ioctls) {
    /** Whether the kernel listed {@code ioctl} as supported on this range. */
    public boolean supports(ResolveIoctl ioctl) {
        return ioctl.in(ioctls);
    }
}
