package dev.faultline.collector.handler;

import dev.faultline.core.abi.Libc;
import dev.faultline.core.abi.UffdAbi;
import dev.faultline.core.region.Backend;
import dev.faultline.core.region.Region;
import dev.faultline.core.trace.TraceEvent;
import dev.faultline.core.uffd.RegisterMode;
import dev.faultline.core.uffd.ResolveIoctl;
import dev.faultline.core.uffd.UffdFeature;
import dev.faultline.core.uffd.Userfaultfd;

/**
 * How a handler resolves the faults of one region, and what the region needs for it: the
 * registration mode, the uffd features, and the set-up before and after registering (filling
 * the page cache for CONTINUE, write-protecting for WP, a staging area for MOVE).
 *
 * <p>{@link #resolve} runs on the handler's hot path: one ioctl, no allocation. It returns the
 * ioctl's count, or -EEXIST / -EAGAIN when another resolver won the race (reported, not thrown);
 * any other failure throws {@link dev.faultline.core.abi.KernelException}.
 */
public abstract class ResolvePolicy implements AutoCloseable {
    private final ResolveIoctl ioctl;
    private final RegisterMode mode;
    /** Where page content comes from (unused by ZEROPAGE and POISON). */
    protected final PageSource source;

    private ResolvePolicy(ResolveIoctl ioctl, PageSource source) {
        this(ioctl, modeOf(ioctl), source);
    }

    /**
     * For policies outside this package (replay's per-fault one).
     *
     * @param ioctl the ioctl it mostly resolves with (for descriptions)
     * @param mode  the registration mode of the faults it resolves
     */
    protected ResolvePolicy(ResolveIoctl ioctl, RegisterMode mode, PageSource source) {
        this.ioctl = ioctl;
        this.mode = mode;
        this.source = source;
    }

    /** The registration mode whose faults {@code op} resolves: MINOR for CONTINUE, WP for WRITEPROTECT, else MISSING. */
    public static RegisterMode modeOf(ResolveIoctl op) {
        return switch (op) {
            case CONTINUE -> RegisterMode.MINOR;
            case WRITEPROTECT -> RegisterMode.WP;
            default -> RegisterMode.MISSING;
        };
    }

    /** The policy for {@code op}, serving content from {@code source} where the op needs content. */
    public static ResolvePolicy of(ResolveIoctl op, PageSource source) {
        return switch (op) {
            case COPY -> new Copy(source);
            case ZEROPAGE -> new Zeropage(source);
            case CONTINUE -> new Continue(source);
            case WRITEPROTECT -> new Unprotect(source);
            case MOVE -> new Move(source);
            case POISON -> new Poison(source);
            case WAKE, NONE -> throw new IllegalArgumentException(op + " does not resolve a fault");
        };
    }

    /** The ioctl this policy resolves with. */
    public final ResolveIoctl ioctl() {
        return ioctl;
    }

    /** The registration mode whose faults it resolves. */
    public final RegisterMode mode() {
        return mode;
    }

    /** UFFD_FEATURE_* bits the policy needs on a region of {@code backend}. */
    public long features(Backend backend) {
        return backend.isHugetlb() ? UffdFeature.MISSING_HUGETLBFS.mask()
                : backend == Backend.ANON ? 0 : UffdFeature.MISSING_SHMEM.mask();
    }

    /** Before registering: put the content where the policy expects it. */
    public void beforeRegister(Region region) {
    }

    /** After registering: arm the region (e.g. write-protect it). */
    public void afterRegister(Userfaultfd uffd, Region region) {
    }

    /** Resolves the fault on the page at {@code page} (region offset {@code offset}). */
    public abstract long resolve(Userfaultfd uffd, long page, long offset, long pageSize);

    /**
     * Resolves the fault on the page at {@code page} and puts what it did in {@code row}: the
     * ioctl and the region range it covered ({@code ioctl}, {@code resolveOffset},
     * {@code resolveLength}). This one resolves exactly the page with {@link #ioctl()}; a policy
     * that decides per fault overrides it. The handler's hot path calls this; no allocation.
     */
    public long resolve(Userfaultfd uffd, long page, long offset, long pageSize, TraceEvent row) {
        row.ioctl = ioctl;
        row.resolveOffset = offset;
        row.resolveLength = pageSize;
        return resolve(uffd, page, offset, pageSize);
    }

    /** What it does, for summaries and trace metadata. */
    /**
     * Waits, between the handler's read of a fault on the page at {@code offset} and its resolving
     * ioctl, the service time this policy models (a replay's delays); by default none. The handler
     * times the ioctl from after it, so a trace shows the wait as read-to-ioctl time, as a real
     * handler's work would.
     */
    public void serve(long offset, long pageSize) {
    }

    /**
     * Resolves as {@link #resolve(Userfaultfd, long, long, long)} does, with the op's DONTWAKE mode
     * when {@code dontWake}: the page is placed but the faulting threads stay asleep until a
     * {@link Userfaultfd#wake}. Policies whose ioctl has no such mode ignore it.
     */
    public long resolve(Userfaultfd uffd, long page, long offset, long length, boolean dontWake) {
        return resolve(uffd, page, offset, length);
    }

    public abstract String describe();

    @Override
    public void close() {
    }

    /** Copies the source's content for [0, length) to {@code dst}, page by page, from native code. */
    final void fillFromSource(long dst, long length, long pageSize) {
        for (long off = 0; off < length; off += pageSize) {
            Libc.memcpy(dst + off, source.address(off), pageSize);
        }
    }

    /** MISSING faults filled by UFFDIO_COPY from the {@link PageSource}. */
    static final class Copy extends ResolvePolicy {
        Copy(PageSource source) {
            super(ResolveIoctl.COPY, source);
        }

        @Override
        public long resolve(Userfaultfd uffd, long page, long offset, long pageSize) {
            return uffd.copy(page, source.address(offset), pageSize, 0);
        }

        @Override
        public long resolve(Userfaultfd uffd, long page, long offset, long length, boolean dontWake) {
            return uffd.copy(page, source.address(offset), length, dontWake ? UffdAbi.UFFDIO_COPY_MODE_DONTWAKE : 0);
        }

        @Override
        public String describe() {
            return "COPY from " + source.describe();
        }
    }

    /** MISSING faults mapped to zeroes by UFFDIO_ZEROPAGE (anon and shmem; hugetlb answers EINVAL). */
    static final class Zeropage extends ResolvePolicy {
        Zeropage(PageSource source) {
            super(ResolveIoctl.ZEROPAGE, source);
        }

        @Override
        public long resolve(Userfaultfd uffd, long page, long offset, long pageSize) {
            return uffd.zeropage(page, pageSize, 0);
        }

        @Override
        public long resolve(Userfaultfd uffd, long page, long offset, long length, boolean dontWake) {
            return uffd.zeropage(page, length, dontWake ? UffdAbi.UFFDIO_ZEROPAGE_MODE_DONTWAKE : 0);
        }

        @Override
        public String describe() {
            return "ZEROPAGE";
        }
    }

    /** MINOR faults: the content is put in the page cache first, then each fault is mapped by UFFDIO_CONTINUE. */
    static final class Continue extends ResolvePolicy {
        Continue(PageSource source) {
            super(ResolveIoctl.CONTINUE, source);
        }

        @Override
        public long features(Backend backend) {
            return backend.isHugetlb() ? UffdFeature.MINOR_HUGETLBFS.mask() : UffdFeature.MINOR_SHMEM.mask();
        }

        @Override
        public void beforeRegister(Region region) {
            fillFromSource(region.alias(), region.length(), region.pageSize());
        }

        @Override
        public long resolve(Userfaultfd uffd, long page, long offset, long pageSize) {
            return uffd.continueMinor(page, pageSize, 0);
        }

        @Override
        public long resolve(Userfaultfd uffd, long page, long offset, long length, boolean dontWake) {
            return uffd.continueMinor(page, length, dontWake ? UffdAbi.UFFDIO_CONTINUE_MODE_DONTWAKE : 0);
        }

        @Override
        public String describe() {
            return "CONTINUE over a page cache filled from " + source.describe();
        }
    }

    /** WP faults: the region is filled and write-protected; each write fault is resolved by un-protecting the page. */
    static final class Unprotect extends ResolvePolicy {
        Unprotect(PageSource source) {
            super(ResolveIoctl.WRITEPROTECT, source);
        }

        @Override
        public long features(Backend backend) {
            return backend == Backend.ANON ? UffdFeature.PAGEFAULT_FLAG_WP.mask()
                    : UffdFeature.maskOf(UffdFeature.PAGEFAULT_FLAG_WP, UffdFeature.WP_HUGETLBFS_SHMEM);
        }

        @Override
        public void beforeRegister(Region region) {
            fillFromSource(region.address(), region.length(), region.pageSize());
        }

        @Override
        public void afterRegister(Userfaultfd uffd, Region region) {
            uffd.writeProtect(region.address(), region.length(), UffdAbi.UFFDIO_WRITEPROTECT_MODE_WP);
        }

        @Override
        public long resolve(Userfaultfd uffd, long page, long offset, long pageSize) {
            return uffd.writeProtect(page, pageSize, 0);
        }

        @Override
        public long resolve(Userfaultfd uffd, long page, long offset, long length, boolean dontWake) {
            return uffd.writeProtect(page, length, dontWake ? UffdAbi.UFFDIO_WRITEPROTECT_MODE_DONTWAKE : 0);
        }

        @Override
        public String describe() {
            return "WRITEPROTECT (un-protect on write)";
        }
    }

    /**
     * MISSING faults on private anon memory resolved by UFFDIO_MOVE of the page from a staging
     * area of the same size, filled from the source before registering. Each page moves once.
     */
    static final class Move extends ResolvePolicy {
        private Region staging;

        Move(PageSource source) {
            super(ResolveIoctl.MOVE, source);
        }

        @Override
        public long features(Backend backend) {
            return UffdFeature.MOVE.mask();
        }

        @Override
        public void beforeRegister(Region region) {
            staging = Region.map(Backend.ANON, region.length());
            fillFromSource(staging.address(), region.length(), region.pageSize());
        }

        @Override
        public long resolve(Userfaultfd uffd, long page, long offset, long pageSize) {
            return uffd.move(page, staging.address() + offset, pageSize, 0);
        }

        @Override
        public long resolve(Userfaultfd uffd, long page, long offset, long length, boolean dontWake) {
            return uffd.move(page, staging.address() + offset, length, dontWake ? UffdAbi.UFFDIO_MOVE_MODE_DONTWAKE : 0);
        }

        @Override
        public String describe() {
            return "MOVE from a staging area filled from " + source.describe();
        }

        @Override
        public void close() {
            if (staging != null) {
                staging.close();
            }
        }
    }

    /** MISSING faults answered by UFFDIO_POISON: the access fails (EFAULT in the kernel, SIGBUS in user mode). */
    static final class Poison extends ResolvePolicy {
        Poison(PageSource source) {
            super(ResolveIoctl.POISON, source);
        }

        @Override
        public long features(Backend backend) {
            return UffdFeature.POISON.mask() | super.features(backend);
        }

        @Override
        public long resolve(Userfaultfd uffd, long page, long offset, long pageSize) {
            return uffd.poison(page, pageSize, 0);
        }

        @Override
        public long resolve(Userfaultfd uffd, long page, long offset, long length, boolean dontWake) {
            return uffd.poison(page, length, dontWake ? UffdAbi.UFFDIO_POISON_MODE_DONTWAKE : 0);
        }

        @Override
        public String describe() {
            return "POISON";
        }
    }
}
