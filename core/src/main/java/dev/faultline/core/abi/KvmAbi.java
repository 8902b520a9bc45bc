package dev.faultline.core.abi;

/**
 * The KVM ABI needed for guest_memfd ({@code include/uapi/linux/kvm.h}, x86-64), under the
 * kernel's names.
 */
public final class KvmAbi {
    private KvmAbi() {
    }

    public static final long KVM_CREATE_VM = 0xAE01L;
    public static final long KVM_CHECK_EXTENSION = 0xAE03L;
    /** _IOWR(KVMIO, 0xd4, struct kvm_create_guest_memfd). */
    public static final long KVM_CREATE_GUEST_MEMFD = 0xC040AED4L;

    public static final int KVM_CAP_GUEST_MEMFD = 234;
    /** Answers the supported GUEST_MEMFD_FLAG_* bits (Linux 6.18). */
    public static final int KVM_CAP_GUEST_MEMFD_FLAGS = 244;

    public static final long GUEST_MEMFD_FLAG_MMAP = 1L << 0;
    public static final long GUEST_MEMFD_FLAG_INIT_SHARED = 1L << 1;

    /** struct kvm_create_guest_memfd { __u64 size; __u64 flags; __u64 reserved[6]; } */
    public static final int SIZEOF_KVM_CREATE_GUEST_MEMFD = 64;
    public static final int KVM_CREATE_GUEST_MEMFD_SIZE = 0;
    public static final int KVM_CREATE_GUEST_MEMFD_FLAGS = 8;
}
