package dev.faultline.core.probe;

import dev.faultline.core.region.Backend;
import dev.faultline.core.uffd.RegisterMode;
import dev.faultline.core.uffd.ResolveIoctl;

/**
 * One cell of the capability matrix: whether {@code ioctl} resolved a real fault on a
 * {@code backend} region registered in {@code mode}.
 *
 * <p>Invariant: {@code supported} means a fault was raised, resolved by the ioctl, the faulting
 * thread woke and the page read back as the ioctl should have left it; then {@code errno} and
 * {@code stage} are null. Otherwise {@code stage} says where it stopped and {@code errno} is the
 * kernel's answer there by name (null when the kernel accepted everything but the result was
 * wrong, or the cell could not be tried), with {@code detail} in words.
 */
public record ProbeCell(Backend backend, RegisterMode mode, ResolveIoctl ioctl, boolean supported,
                        String errno, Stage stage, String detail) {

    /** Where a cell stopped. */
    public enum Stage {
        /** Mapping the region (e.g. no free huge pages, no /dev/kvm). */
        MAP,
        /** Opening the userfaultfd or the API handshake. */
        OPEN,
        /** UFFDIO_REGISTER (or arming write protection) refused the range. */
        REGISTER,
        /** No fault message arrived. */
        FAULT,
        /** The resolving ioctl failed. */
        RESOLVE,
        /** The ioctl succeeded but the faulting thread did not resume. */
        WAKE,
        /** The page did not hold what the ioctl should have left. */
        VERIFY,
        /** Not tried, with the reason in the detail. */
        SKIPPED;

        /** Lower-case name for output. */
        public String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    static ProbeCell ok(Backend b, RegisterMode m, ResolveIoctl op) {
        return new ProbeCell(b, m, op, true, null, null, null);
    }

    static ProbeCell failed(Backend b, RegisterMode m, ResolveIoctl op, Stage stage, String errno, String detail) {
        return new ProbeCell(b, m, op, false, errno, stage, detail);
    }

    /** Short text for the human table: {@code ok}, {@code EINVAL}, {@code reg:EINVAL}, {@code map:ENOMEM}… */
    public String shortText() {
        if (supported) {
            return "ok";
        }
        String what = errno != null ? errno : stage.label();
        return switch (stage) {
            case RESOLVE -> what;
            case REGISTER -> "reg:" + what;
            case MAP -> "map:" + what;
            case OPEN -> "open:" + what;
            default -> errno != null ? stage.label() + ":" + errno : stage.label();
        };
    }
}
