package dev.faultline.core.probe;

import dev.faultline.core.abi.Errno;
import dev.faultline.core.abi.KernelException;
import dev.faultline.core.abi.Libc;
import dev.faultline.core.abi.UffdAbi;
import dev.faultline.core.probe.ProbeCell.Stage;
import dev.faultline.core.region.Backend;
import dev.faultline.core.region.HugePages;
import dev.faultline.core.region.Region;
import dev.faultline.core.uffd.RegisterMode;
import dev.faultline.core.uffd.ResolveIoctl;
import dev.faultline.core.uffd.UffdEvent;
import dev.faultline.core.uffd.UffdFeature;
import dev.faultline.core.uffd.UffdMessageBuffer;
import dev.faultline.core.uffd.Userfaultfd;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import static dev.faultline.core.abi.MmanAbi.MAP_ANONYMOUS;
import static dev.faultline.core.abi.MmanAbi.MAP_PRIVATE;
import static dev.faultline.core.abi.MmanAbi.O_CLOEXEC;
import static dev.faultline.core.abi.MmanAbi.PROT_READ;
import static dev.faultline.core.abi.MmanAbi.PROT_WRITE;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * Establishes, for the running kernel, which resolving ioctls work on which memory in which
 * register mode — by doing it, not by reading feature bits.
 *
 * <p>Each cell maps a fresh one-page region, opens a fresh userfaultfd with every feature the
 * kernel offers (except those that change how faults are delivered: SIGBUS, WP_ASYNC and the
 * non-fault events), prepares the page for the mode (WP: populated and write-protected; MINOR:
 * filled through the alias mapping), registers it, lets a thread fault on it from native code,
 * resolves that one fault with the ioctl and reads the page back. A thread left waiting by a
 * failed ioctl is released by closing the uffd. POISON is probed with a kernel-mode access (a
 * pipe write from the page), which the poisoned page fails with EFAULT instead of a SIGBUS that
 * would end the JVM.
 */
public final class CapabilityProbe {
    private static final long FAULT_WAIT_MS = 2_000;
    private static final long WAKE_WAIT_MS = 10_000;
    private static final byte COPY_BYTE = 0x5a;
    private static final byte MOVE_BYTE = 0x6b;
    private static final byte ALIAS_BYTE = 0x44;
    private static final byte WP_INITIAL_BYTE = 0x33;
    private static final byte TOUCH_WRITE_BYTE = 0x55;

    private final long features;
    private final Userfaultfd.OpenedVia openedVia;
    private final Map<Long, Long> copySources = new HashMap<>();

    /** A probe that opens each cell's userfaultfd the way this process can. */
    public CapabilityProbe() {
        long supported = Userfaultfd.supportedFeatures();
        this.features = supported & ~UffdFeature.maskOf(UffdFeature.SIGBUS, UffdFeature.WP_ASYNC,
                UffdFeature.EVENT_FORK, UffdFeature.EVENT_REMAP, UffdFeature.EVENT_REMOVE, UffdFeature.EVENT_UNMAP);
        try (Userfaultfd u = Userfaultfd.open(features)) {
            this.openedVia = u.openedVia();
        }
    }

    /** Every backend × mode × resolving ioctl, reporting each backend as it starts. */
    public ProbeReport run(List<Backend> backends, Consumer<String> progress) {
        List<ProbeCell> cells = new ArrayList<>();
        try {
            for (Backend b : backends) {
                progress.accept(b.label());
                for (RegisterMode m : RegisterMode.values()) {
                    for (ResolveIoctl op : ResolveIoctl.resolving()) {
                        cells.add(probe(b, m, op));
                    }
                }
            }
        } finally {
            copySources.forEach((size, addr) -> Libc.munmap(addr, size));
            copySources.clear();
        }
        return new ProbeReport(kernelRelease(), Userfaultfd.supportedFeatures(),
                UffdFeature.names(Userfaultfd.supportedFeatures()), openedVia.label(), HugePages.free(), cells);
    }

    /** The running kernel's release, as uname -r prints it. */
    public static String kernelRelease() {
        try {
            return Files.readString(Path.of("/proc/sys/kernel/osrelease")).trim();
        } catch (IOException e) {
            return System.getProperty("os.version");
        }
    }

    /** One cell: map, register, fault, resolve, verify. */
    public ProbeCell probe(Backend b, RegisterMode mode, ResolveIoctl op) {
        if (op == ResolveIoctl.POISON && openedVia == Userfaultfd.OpenedVia.USER_MODE_ONLY) {
            return ProbeCell.failed(b, mode, op, Stage.SKIPPED, null,
                    "POISON is probed with a kernel-mode access, which a user-mode-only uffd does not report");
        }
        Region region;
        try {
            region = Region.map(b, b.pageSize());
        } catch (KernelException e) {
            return ProbeCell.failed(b, mode, op, Stage.MAP, e.errnoName(), e.getMessage());
        }
        try (region) {
            return probe(region, mode, op);
        }
    }

    private ProbeCell probe(Region region, RegisterMode mode, ResolveIoctl op) {
        Backend b = region.backend();
        long page = region.pageSize();
        long addr = region.address();
        Userfaultfd uffd;
        try {
            uffd = Userfaultfd.open(features, openedVia);
        } catch (KernelException e) {
            return ProbeCell.failed(b, mode, op, Stage.OPEN, e.errnoName(), e.getMessage());
        }
        Toucher toucher = null;
        long moveSource = 0;
        try (Arena arena = Arena.ofConfined()) {
            try {
                if (mode == RegisterMode.WP) {
                    region.fill(0, WP_INITIAL_BYTE, page);
                } else if (mode == RegisterMode.MINOR && b.isFileBacked()) {
                    Libc.memset(region.alias(), ALIAS_BYTE, page);
                }
                uffd.register(addr, page, mode.bits());
                if (mode == RegisterMode.WP) {
                    uffd.writeProtect(addr, page, UffdAbi.UFFDIO_WRITEPROTECT_MODE_WP);
                }
            } catch (KernelException e) {
                return ProbeCell.failed(b, mode, op, Stage.REGISTER, e.errnoName(), e.getMessage());
            }

            toucher = new Toucher(addr, mode == RegisterMode.WP, op == ResolveIoctl.POISON);
            toucher.start();
            UffdMessageBuffer messages = new UffdMessageBuffer(arena, 1);
            if (!uffd.awaitReadable((int) FAULT_WAIT_MS) || uffd.read(messages) != 1
                    || messages.event(0) != UffdEvent.PAGEFAULT) {
                return ProbeCell.failed(b, mode, op, Stage.FAULT, null,
                        "no page fault message within " + FAULT_WAIT_MS + " ms");
            }
            long faultPage = messages.address(0) & -page;
            long rc;
            try {
                if (op == ResolveIoctl.MOVE) {
                    moveSource = moveSource(page);
                }
                rc = resolve(uffd, op, faultPage, page, moveSource);
            } catch (KernelException e) {
                return ProbeCell.failed(b, mode, op, Stage.RESOLVE, e.errnoName(), e.getMessage());
            }
            if (rc < 0) {
                return ProbeCell.failed(b, mode, op, Stage.RESOLVE, Errno.name((int) -rc),
                        "UFFDIO_" + op + " answered " + Errno.name((int) -rc));
            }
            if (!toucher.await(WAKE_WAIT_MS)) {
                return ProbeCell.failed(b, mode, op, Stage.WAKE, null,
                        "UFFDIO_" + op + " succeeded but the faulting thread did not resume within " + WAKE_WAIT_MS + " ms");
            }
            String wrong = verify(region, mode, op, toucher, arena);
            return wrong == null ? ProbeCell.ok(b, mode, op)
                    : ProbeCell.failed(b, mode, op, Stage.VERIFY, null, wrong);
        } finally {
            if (mode == RegisterMode.WP && toucher != null && toucher.isAlive()) {
                // Lift the protection, which wakes the toucher, before closing: Linux 6.1 answers a
                // hugetlb write-protect fault still pending when its uffd closes with SIGSEGV, which
                // would take the whole JVM down with it.
                try {
                    uffd.writeProtect(addr, page, 0);
                } catch (KernelException ignored) {
                    // closing below releases it on the kernels that do that cleanly
                }
            }
            uffd.close(); // releases a toucher still waiting on its fault
            if (toucher != null) {
                toucher.await(WAKE_WAIT_MS);
            }
            if (moveSource != 0) {
                Libc.munmap(moveSource, page);
            }
        }
    }

    private long resolve(Userfaultfd uffd, ResolveIoctl op, long dst, long page, long moveSource) {
        return switch (op) {
            case COPY -> uffd.copy(dst, copySource(page), page, 0);
            case ZEROPAGE -> uffd.zeropage(dst, page, 0);
            case CONTINUE -> uffd.continueMinor(dst, page, 0);
            case WRITEPROTECT -> uffd.writeProtect(dst, page, 0);
            case MOVE -> uffd.move(dst, moveSource, page, UffdAbi.UFFDIO_MOVE_MODE_ALLOW_SRC_HOLES);
            case POISON -> uffd.poison(dst, page, 0);
            case WAKE, NONE -> throw new IllegalArgumentException(op + " does not resolve a fault");
        };
    }

    /** A page of {@link #COPY_BYTE}, kept for the whole run (a 1 GiB one is costly to fill). */
    private long copySource(long page) {
        return copySources.computeIfAbsent(page, size -> {
            long a = anon(size);
            Libc.memset(a, COPY_BYTE, size);
            return a;
        });
    }

    /** A private anonymous source for MOVE, first 4 KiB present (MOVE takes its pages away). */
    private static long moveSource(long page) {
        long a = anon(page);
        Libc.memset(a, MOVE_BYTE, Math.min(page, 4096));
        return a;
    }

    private static long anon(long size) {
        long a = Libc.mmap(0, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (a < 0) {
            throw new KernelException("mmap anon source " + size + " bytes", (int) -a);
        }
        return a;
    }

    /** Null if the page holds what {@code op} should have left there, else what is wrong. */
    private static String verify(Region region, RegisterMode mode, ResolveIoctl op, Toucher toucher, Arena arena) {
        if (op == ResolveIoctl.POISON) {
            return toucher.result == -Errno.EFAULT ? null
                    : "access after UFFDIO_POISON answered " + toucher.result + ", not EFAULT";
        }
        if (toucher.result < 0) {
            return "the faulting access failed after resolution: " + Errno.name((int) -toucher.result);
        }
        byte expected = switch (op) {
            case COPY -> COPY_BYTE;
            case ZEROPAGE -> 0;
            case CONTINUE -> ALIAS_BYTE;
            case WRITEPROTECT -> TOUCH_WRITE_BYTE;
            case MOVE -> MOVE_BYTE;
            default -> throw new IllegalArgumentException(op.name());
        };
        if (mode == RegisterMode.WP && op != ResolveIoctl.WRITEPROTECT) {
            expected = TOUCH_WRITE_BYTE;
        }
        MemorySegment one = arena.allocate(1);
        region.copyOut(0, one, 1);
        byte got = one.get(JAVA_BYTE, 0);
        return got == expected ? null
                : String.format("page holds 0x%02x after UFFDIO_%s, expected 0x%02x", got, op, expected);
    }

    /**
     * The thread that takes the fault: a one-byte read (or, for WP, write) of the page from native
     * code, or for POISON a kernel-mode access through a pipe. {@code result} is 0 or the
     * access's -errno.
     */
    private static final class Toucher extends Thread {
        private final long address;
        private final boolean write;
        private final boolean kernelMode;
        volatile long result = Long.MIN_VALUE;

        Toucher(long address, boolean write, boolean kernelMode) {
            super("faultline-probe-toucher");
            setDaemon(true);
            this.address = address;
            this.write = write;
            this.kernelMode = kernelMode;
        }

        @Override
        public void run() {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment buf = arena.allocate(8);
                if (!kernelMode) {
                    if (write) {
                        Libc.memset(address, TOUCH_WRITE_BYTE, 1);
                    } else {
                        Libc.memcpy(buf.address(), address, 1);
                    }
                    result = 0;
                    return;
                }
                MemorySegment fds = arena.allocate(JAVA_INT, 2);
                int rc = Libc.pipe2(fds.address(), O_CLOEXEC);
                if (rc < 0) {
                    result = rc;
                    return;
                }
                int r = fds.getAtIndex(JAVA_INT, 0);
                int w = fds.getAtIndex(JAVA_INT, 1);
                try {
                    long n;
                    if (write) { // the kernel writes into the page: read(2) from a pipe holding a byte
                        Libc.write(w, buf.address(), 1);
                        n = Libc.read(r, address, 1);
                    } else { // the kernel reads the page: write(2) of it into a pipe
                        n = Libc.write(w, address, 1);
                    }
                    result = n < 0 ? n : 0;
                } finally {
                    Libc.close(r);
                    Libc.close(w);
                }
            }
        }

        boolean await(long millis) {
            try {
                join(TimeUnit.MILLISECONDS.toMillis(millis));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return !isAlive();
        }
    }
}
