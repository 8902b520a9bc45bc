package dev.faultline.core.region;

import dev.faultline.core.abi.Errno;
import dev.faultline.core.abi.KernelException;
import dev.faultline.core.abi.KvmAbi;
import dev.faultline.core.abi.Libc;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static dev.faultline.core.abi.MmanAbi.*;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * A mapping of one {@link Backend} that userfaultfd can be registered on: its address, length and
 * page size, an optional alias mapping (a second MAP_SHARED view of the same file, never
 * registered, used to fill the page cache for MINOR faults) and clean unmapping.
 *
 * <p>Invariants: {@code length} is a positive multiple of the page size; the mapping is readable
 * and writable. Java code must never read or write the mapping directly once it is registered —
 * use {@link #fill} and {@link #copyOut}, which touch it from native code (docs/design.md §5).
 */
public final class Region implements AutoCloseable {
    private final Backend backend;
    private final long address;
    private final long length;
    private final int fd;
    private final int vmFd;
    private long alias;
    private boolean closed;

    private Region(Backend backend, long address, long length, int fd, int vmFd) {
        this.backend = backend;
        this.address = address;
        this.length = length;
        this.fd = fd;
        this.vmFd = vmFd;
    }

    /**
     * Maps {@code length} bytes of {@code backend}.
     *
     * @throws IllegalArgumentException if the length is not a positive multiple of the page size
     * @throws KernelException naming the step that failed (ENOMEM on hugetlb says how to reserve)
     */
    public static Region map(Backend backend, long length) {
        long page = backend.pageSize();
        if (length <= 0 || length % page != 0) {
            throw new IllegalArgumentException(backend.label() + " region length " + length
                    + " is not a positive multiple of its page size " + page);
        }
        return switch (backend) {
            case ANON -> new Region(backend, mmap("mmap anon", length, MAP_PRIVATE | MAP_ANONYMOUS, -1),
                    length, -1, -1);
            case SHMEM -> fromMemfd(backend, length, MFD_CLOEXEC);
            case HUGETLB_2M -> fromMemfd(backend, length, MFD_CLOEXEC | MFD_HUGETLB | (21 << MFD_HUGE_SHIFT));
            case HUGETLB_1G -> fromMemfd(backend, length, MFD_CLOEXEC | MFD_HUGETLB | (30 << MFD_HUGE_SHIFT));
            case GUEST_MEMFD -> guestMemfd(length);
        };
    }

    private static Region fromMemfd(Backend backend, long length, int flags) {
        int fd = Libc.memfdCreate("faultline-" + backend.label(), flags);
        if (fd < 0) {
            throw new KernelException("memfd_create(" + backend.label() + ")", -fd);
        }
        try {
            int rc = Libc.ftruncate(fd, length);
            if (rc < 0) {
                throw new KernelException("ftruncate " + backend.label() + " memfd to " + length, -rc);
            }
            return new Region(backend, mmapShared(backend, fd, length), length, fd, -1);
        } catch (RuntimeException e) {
            Libc.close(fd);
            throw e;
        }
    }

    /**
     * Why guest_memfd regions cannot be mapped here, or null if they can be tried: /dev/kvm must
     * open read-write and offer KVM_CAP_GUEST_MEMFD (a KVM without it, such as a nested
     * hypervisor's own module, answers KVM_CREATE_GUEST_MEMFD with ENOTTY).
     */
    public static String guestMemfdUnavailable() {
        int kvm = Libc.open("/dev/kvm", O_RDWR | O_CLOEXEC);
        if (kvm < 0) {
            return "open /dev/kvm: " + Errno.name(-kvm);
        }
        try {
            return guestMemfdOffered(kvm) ? null
                    : "this KVM offers no guest_memfd (KVM_CHECK_EXTENSION KVM_CAP_GUEST_MEMFD is 0)";
        } finally {
            Libc.close(kvm);
        }
    }

    private static boolean guestMemfdOffered(int kvm) {
        return Libc.ioctl(kvm, KvmAbi.KVM_CHECK_EXTENSION, KvmAbi.KVM_CAP_GUEST_MEMFD) > 0;
    }

    private static Region guestMemfd(long length) {
        int kvm = Libc.open("/dev/kvm", O_RDWR | O_CLOEXEC);
        if (kvm < 0) {
            throw new KernelException("open /dev/kvm", -kvm);
        }
        int vm = -1;
        int gmem = -1;
        try {
            if (!guestMemfdOffered(kvm)) {
                // what KVM_CREATE_GUEST_MEMFD would answer, without creating a VM for each refusal
                throw new KernelException("KVM_CREATE_GUEST_MEMFD (KVM_CHECK_EXTENSION KVM_CAP_GUEST_MEMFD is 0:"
                        + " this KVM offers no guest_memfd)", Errno.ENOTTY);
            }
            vm = Libc.ioctl(kvm, KvmAbi.KVM_CREATE_VM, 0);
            if (vm < 0) {
                throw new KernelException("KVM_CREATE_VM", -vm);
            }
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment arg = arena.allocate(KvmAbi.SIZEOF_KVM_CREATE_GUEST_MEMFD, 8);
                arg.set(JAVA_LONG, KvmAbi.KVM_CREATE_GUEST_MEMFD_SIZE, length);
                arg.set(JAVA_LONG, KvmAbi.KVM_CREATE_GUEST_MEMFD_FLAGS,
                        KvmAbi.GUEST_MEMFD_FLAG_MMAP | KvmAbi.GUEST_MEMFD_FLAG_INIT_SHARED);
                gmem = Libc.ioctl(vm, KvmAbi.KVM_CREATE_GUEST_MEMFD, arg.address());
            }
            if (gmem < 0) {
                throw new KernelException("KVM_CREATE_GUEST_MEMFD size=" + length + " flags=MMAP|INIT_SHARED", -gmem);
            }
            return new Region(Backend.GUEST_MEMFD, mmapShared(Backend.GUEST_MEMFD, gmem, length), length, gmem, vm);
        } catch (RuntimeException e) {
            if (gmem >= 0) {
                Libc.close(gmem);
            }
            if (vm >= 0) {
                Libc.close(vm);
            }
            throw e;
        } finally {
            Libc.close(kvm);
        }
    }

    private static long mmapShared(Backend backend, int fd, long length) {
        long addr = Libc.mmap(0, length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (addr < 0 && -addr == Errno.ENOMEM && backend.isHugetlb()) {
            long pages = length / backend.pageSize();
            throw new KernelException("mmap " + length + " bytes of " + backend.label() + " (needs " + pages
                    + " free huge pages, " + HugePages.free(backend.pageSize()) + " free; reserve with '"
                    + HugePages.reserveHint(backend.pageSize(), pages) + "')", Errno.ENOMEM);
        }
        if (addr < 0) {
            throw new KernelException("mmap " + length + " bytes of " + backend.label(), (int) -addr);
        }
        return addr;
    }

    private static long mmap(String what, long length, int flags, int fd) {
        long addr = Libc.mmap(0, length, PROT_READ | PROT_WRITE, flags, fd, 0);
        if (addr < 0) {
            throw new KernelException(what + " " + length + " bytes", (int) -addr);
        }
        return addr;
    }

    /** The backend. */
    public Backend backend() {
        return backend;
    }

    /** The start address of the (registrable) mapping. */
    public long address() {
        return address;
    }

    /** Length in bytes. */
    public long length() {
        return length;
    }

    /** Page size in bytes. */
    public long pageSize() {
        return backend.pageSize();
    }

    /** Number of pages. */
    public long pages() {
        return length / backend.pageSize();
    }

    /** The file descriptor behind the mapping, -1 for anon. */
    public int fd() {
        return fd;
    }

    /**
     * A second MAP_SHARED mapping of the same file, made on first call and unmapped with the
     * region. Writing through it fills the page cache without faulting on the registered mapping:
     * the way to prepare MINOR faults.
     *
     * @throws UnsupportedOperationException for anon, which has no file
     */
    public long alias() {
        if (!backend.isFileBacked()) {
            throw new UnsupportedOperationException("anon memory has no file to alias");
        }
        if (alias == 0) {
            alias = mmapShared(backend, fd, length);
        }
        return alias;
    }

    /** Writes {@code value} into [offset, offset+length) from native code (may fault). */
    public void fill(long offset, int value, long count) {
        checkRange(offset, count);
        Libc.memset(address + offset, value, count);
    }

    /** Copies [offset, offset+count) into {@code dst} from native code (may fault). */
    public void copyOut(long offset, MemorySegment dst, long count) {
        checkRange(offset, count);
        if (dst.byteSize() < count) {
            throw new IllegalArgumentException("destination holds " + dst.byteSize() + " bytes, not " + count);
        }
        Libc.memcpy(dst.address(), address + offset, count);
    }

    private void checkRange(long offset, long count) {
        if (offset < 0 || count < 0 || offset + count > length) {
            throw new IndexOutOfBoundsException("[" + offset + ", +" + count + ") outside a region of " + length);
        }
    }

    /** Unmaps the region and its alias and closes its files. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        Libc.munmap(address, length);
        if (alias != 0) {
            Libc.munmap(alias, length);
        }
        if (fd >= 0) {
            Libc.close(fd);
        }
        if (vmFd >= 0) {
            Libc.close(vmFd);
        }
    }

    @Override
    public String toString() {
        return backend.label() + " region 0x" + Long.toHexString(address) + " +" + length;
    }
}
