package dev.faultline.core.trace;

import com.fasterxml.jackson.annotation.JsonAlias;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.faultline.core.region.Backend;
import dev.faultline.core.uffd.RegisterMode;

/**
 * One entry of a trace's {@code regions} metadata: a memory region the trace's rows point into by
 * index.
 *
 * @param id        the index rows use in their {@code region} column (0-based, dense)
 * @param name      a human name ({@code "guest-ram"}, {@code "region0"})
 * @param backend   the trace backend name: anon, shmem, hugetlb, guest_memfd
 * @param pageSize  page size in bytes
 * @param length    length in bytes, a multiple of the page size
 * @param modes     register modes as {@code MISSING|WP|MINOR}
 * @param base      the address the region had when recorded (0 if unknown)
 */
public record RegionInfo(int id, String name, String backend,
                         @JsonProperty("page_size") @JsonAlias("pageSize") long pageSize, // pageSize: traces before 2026-11-23
                         long length, String modes, long base) {

    /** The entry for a region of {@code backend} registered in {@code modes} ({@link RegisterMode} bits). */
    public static RegionInfo of(int id, String name, Backend backend, long length, long modes, long base) {
        return new RegionInfo(id, name, backend.traceName(), backend.pageSize(), length,
                RegisterMode.names(modes), base);
    }

    /** The backend this entry describes. */
    public Backend toBackend() {
        return Backend.fromTrace(backend, pageSize);
    }
}
