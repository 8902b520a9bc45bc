package dev.faultline.core.bpf;

import dev.faultline.core.abi.Errno;
import dev.faultline.core.abi.Libbpf;
import dev.faultline.core.abi.Libc;
import dev.faultline.core.abi.MmanAbi;

import java.lang.foreign.MemorySegment;

/**
 * One map of a loaded {@link BpfObject}, by its file descriptor: element lookups and updates
 * through libbpf, and for array maps created with BPF_F_MMAPABLE (and ring buffers) a mapping of
 * its memory that user space reads directly.
 *
 * <p>Valid while its object is open; the object closes the fd.
 */
public final class BpfMap {
    private final String name;
    private final int fd;

    BpfMap(String name, int fd) {
        this.name = name;
        this.fd = fd;
    }

    /** The map's name in the object. */
    public String name() {
        return name;
    }

    /** Its file descriptor. */
    public int fd() {
        return fd;
    }

    /**
     * Sets one element.
     *
     * @throws BpfException naming the map and the errno
     */
    public void update(MemorySegment key, MemorySegment value, long flags) {
        int rc = Libbpf.update(fd, key, value, flags);
        if (rc < 0) {
            throw new BpfException("bpf_map_update_elem(" + name + "): " + Errno.name(-rc));
        }
    }

    /** Deletes one element; nothing if the map has no such key. */
    public void delete(MemorySegment key) {
        int rc = Libbpf.delete(fd, key);
        if (rc < 0 && rc != -Errno.ENOENT) {
            throw new BpfException("bpf_map_delete_elem(" + name + "): " + Errno.name(-rc));
        }
    }

    /**
     * Reads one element into {@code value}.
     *
     * @return false if the map has no such key
     * @throws BpfException for any other failure
     */
    public boolean lookup(MemorySegment key, MemorySegment value) {
        int rc = Libbpf.lookup(fd, key, value);
        if (rc == -Errno.ENOENT) {
            return false;
        }
        if (rc < 0) {
            throw new BpfException("bpf_map_lookup_elem(" + name + "): " + Errno.name(-rc));
        }
        return true;
    }

    /**
     * The key after {@code key} (NULL for the first) into {@code next}.
     *
     * @return false when there is none
     */
    public boolean nextKey(MemorySegment key, MemorySegment next) {
        int rc = Libbpf.nextKey(fd, key, next);
        if (rc == -Errno.ENOENT) {
            return false;
        }
        if (rc < 0) {
            throw new BpfException("bpf_map_get_next_key(" + name + "): " + Errno.name(-rc));
        }
        return true;
    }

    /**
     * Maps {@code bytes} of the map's memory at file offset {@code offset}, shared with the kernel.
     *
     * @return the address; unmap it with {@link Libc#munmap} before the object is closed
     * @throws BpfException if the kernel refuses (a map without BPF_F_MMAPABLE: EINVAL)
     */
    public long mmap(long offset, long bytes, boolean writable) {
        int prot = MmanAbi.PROT_READ | (writable ? MmanAbi.PROT_WRITE : 0);
        long address = Libc.mmap(0, bytes, prot, MmanAbi.MAP_SHARED, fd, offset);
        if (address < 0) {
            throw new BpfException("mmap of BPF map " + name + " (" + bytes + " bytes at " + offset + "): " + Errno.name((int) -address));
        }
        return address;
    }
}
