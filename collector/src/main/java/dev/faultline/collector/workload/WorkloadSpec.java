package dev.faultline.collector.workload;

import dev.faultline.collector.handler.WaitStrategy;
import dev.faultline.collector.record.RecordRing;
import dev.faultline.collector.touch.TouchKind;
import dev.faultline.core.region.Backend;
import dev.faultline.core.trace.Compression;
import dev.faultline.core.uffd.ResolveIoctl;

import java.nio.file.Path;

/**
 * Everything a built-in workload run needs: the pattern, the memory, how faults are resolved,
 * who touches, how the handler waits, and how the trace is written.
 *
 * @param rate         touches per second for all threads together, 0 for as fast as possible
 * @param stride       pages between touches of the strided pattern
 * @param image        a file to serve page content from (COPY, CONTINUE, WP, MOVE), or null for a byte pattern
 * @param ringCapacity rows each handler thread may hand to the writer before it drops
 */
public record WorkloadSpec(WorkloadKind kind, Backend backend, ResolveIoctl resolve, int pages, int threads,
                           TouchKind touch, WaitStrategy waitStrategy, int handlerThreads, Compression compression,
                           long seed, long rate, int stride, Path image, int ringCapacity) {


    /** A run of {@code kind} on {@code backend} resolved by {@code resolve}, with defaults for everything else (4 threads for restore, else 1). */
    public static WorkloadSpec defaults(WorkloadKind kind, Backend backend, ResolveIoctl resolve, int pages) {
        return new WorkloadSpec(kind, backend, resolve, pages, kind == WorkloadKind.RESTORE ? 4 : 1,
                defaultTouch(resolve), WaitStrategy.SPIN, 1, Compression.ZSTD, 1, 0, 16, null, RecordRing.DEFAULT_CAPACITY);
    }

    /** This spec over a region of {@code n} pages. */
    public WorkloadSpec withPages(int n) {
        return new WorkloadSpec(kind, backend, resolve, n, threads, touch, waitStrategy, handlerThreads, compression, seed, rate,
                stride, image, ringCapacity);
    }

    /** This spec on {@code b} memory. */
    public WorkloadSpec withBackend(Backend b) {
        return new WorkloadSpec(kind, b, resolve, pages, threads, touch, waitStrategy, handlerThreads, compression, seed, rate,
                stride, image, ringCapacity);
    }

    /** This spec with {@code n} faulting threads. */
    public WorkloadSpec withThreads(int n) {
        return new WorkloadSpec(kind, backend, resolve, pages, n, touch, waitStrategy, handlerThreads, compression, seed, rate,
                stride, image, ringCapacity);
    }

    /** This spec with handler threads waiting by {@code w}. */
    public WorkloadSpec withWaitStrategy(WaitStrategy w) {
        return new WorkloadSpec(kind, backend, resolve, pages, threads, touch, w, handlerThreads, compression, seed, rate,
                stride, image, ringCapacity);
    }

    /** This spec touching at {@code touchesPerSecond} (0: as fast as possible). */
    public WorkloadSpec withRate(long touchesPerSecond) {
        return new WorkloadSpec(kind, backend, resolve, pages, threads, touch, waitStrategy, handlerThreads, compression, seed,
                touchesPerSecond, stride, image, ringCapacity);
    }

    /** This spec with random orders drawn from {@code s}. */
    public WorkloadSpec withSeed(long s) {
        return new WorkloadSpec(kind, backend, resolve, pages, threads, touch, waitStrategy, handlerThreads, compression, s, rate,
                stride, image, ringCapacity);
    }

    /** This spec writing its trace with {@code c}. */
    public WorkloadSpec withCompression(Compression c) {
        return new WorkloadSpec(kind, backend, resolve, pages, threads, touch, waitStrategy, handlerThreads, c, seed, rate,
                stride, image, ringCapacity);
    }

    /** This spec with {@code rows} of ring per handler thread. */
    public WorkloadSpec withRingCapacity(int rows) {
        return new WorkloadSpec(kind, backend, resolve, pages, threads, touch, waitStrategy, handlerThreads, compression, seed, rate,
                stride, image, rows);
    }

    /** The touch a resolve op needs: writes for WP, kernel accesses for POISON, else writes (as the C floor does). */
    public static TouchKind defaultTouch(ResolveIoctl resolve) {
        return resolve == ResolveIoctl.POISON ? TouchKind.KERNEL : TouchKind.WRITE;
    }

    /**
     * Checks what can be checked without the kernel.
     *
     * @throws WorkloadException saying what is wrong in one line
     */
    public void validate() {
        if (resolve == ResolveIoctl.WAKE || resolve == ResolveIoctl.NONE) {
            throw new WorkloadException(resolve + " does not resolve faults; use copy, zeropage, continue, wp, move or poison");
        }
        if (pages < 1) {
            throw new WorkloadException("--pages must be at least 1, not " + pages);
        }
        if (threads < 1 || handlerThreads < 1) {
            throw new WorkloadException("--threads and --handler-threads must be at least 1");
        }
        if (threads > pages) {
            throw new WorkloadException(threads + " faulting threads cannot share " + pages + " pages: each needs pages of its own");
        }
        if (resolve == ResolveIoctl.WRITEPROTECT && touch != TouchKind.WRITE) {
            throw new WorkloadException("wp faults come from writes: use --touch write");
        }
        if (resolve == ResolveIoctl.POISON && touch != TouchKind.KERNEL) {
            throw new WorkloadException("a user-mode touch of a poisoned page is a SIGBUS: poison runs use --touch kernel");
        }
        if (rate < 0) {
            throw new WorkloadException("--rate must not be negative");
        }
        if ((long) pages * backend.pageSize() <= 0 || (long) pages * backend.pageSize() > (1L << 46)) {
            throw new WorkloadException(pages + " pages of " + backend.label() + " is an absurd size");
        }
    }

    /** Bytes the workload maps. */
    public long length() {
        return (long) pages * backend.pageSize();
    }
}
