package dev.faultline.collector.handler;

import dev.faultline.core.abi.KernelException;
import dev.faultline.core.abi.Libc;
import dev.faultline.core.abi.MmanAbi;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where a page's content comes from when a fault is resolved by copying: a native address per
 * region offset, valid for one page. Sources are off-heap and never fault (they are not registered).
 *
 * <p>{@link #address} allocates nothing. Close a source after the handler that uses it.
 */
public sealed interface PageSource extends AutoCloseable permits PageSource.Fill, PageSource.Image {

    /** The address of the content of the page at region offset {@code offset}. */
    long address(long offset);

    /** What the source is, for traces and summaries ({@code zeroes}, {@code pattern 0x5a}, {@code image vm.mem}). */
    String describe();

    @Override
    void close();

    /** Every page reads as zeroes. */
    static PageSource zeroes(long pageSize) {
        return new Fill(pageSize, 0);
    }

    /** Every page is filled with {@code value}. */
    static PageSource pattern(long pageSize, int value) {
        return new Fill(pageSize, value);
    }

    /**
     * Pages come from a file (e.g. a VM snapshot's memory image) at the same offset; pages past
     * its end read as zeroes.
     *
     * @throws IOException if the file cannot be read, naming it
     */
    static PageSource image(Path file, long pageSize) throws IOException {
        return new Image(file, pageSize);
    }

    /** One page of a constant byte, used for every offset. */
    final class Fill implements PageSource {
        private final Arena arena = Arena.ofShared();
        private final long page;
        private final int value;

        Fill(long pageSize, int value) {
            MemorySegment s = arena.allocate(pageSize, 4096);
            s.fill((byte) value);
            this.page = s.address();
            this.value = value;
        }

        @Override
        public long address(long offset) {
            return page;
        }

        @Override
        public String describe() {
            return value == 0 ? "zeroes" : String.format("pattern 0x%02x", value & 0xff);
        }

        @Override
        public void close() {
            arena.close();
        }
    }

    /**
     * A read-only private mapping of a file. Whole pages are served from the mapping; a last page
     * the file only partly covers is served from a copy padded with zeroes; offsets past the end
     * read from a zero page.
     */
    final class Image implements PageSource {
        private final Path file;
        private final long base;
        private final long mapped;
        private final long whole;
        private final Fill zero;
        private final Arena tailArena = Arena.ofShared();
        private final long tail;

        Image(Path file, long pageSize) throws IOException {
            this.file = file;
            long size = Files.size(file);
            this.zero = new Fill(pageSize, 0);
            this.whole = size - size % pageSize;
            this.mapped = (size + 4095) & -4096L;
            if (size == 0) {
                base = 0;
                tail = 0;
                return;
            }
            int fd = Libc.open(file.toString(), MmanAbi.O_RDONLY);
            if (fd < 0) {
                close();
                throw new IOException("cannot open image " + file + ": " + dev.faultline.core.abi.Errno.name(-fd));
            }
            try {
                long a = Libc.mmap(0, mapped, MmanAbi.PROT_READ, MmanAbi.MAP_PRIVATE, fd, 0);
                if (a < 0) {
                    close();
                    throw new KernelException("mmap image " + file, (int) -a);
                }
                base = a;
            } finally {
                Libc.close(fd);
            }
            if (whole < size) {
                MemorySegment t = tailArena.allocate(pageSize, 4096);
                Libc.memcpy(t.address(), base + whole, size - whole);
                tail = t.address();
            } else {
                tail = 0;
            }
        }

        @Override
        public long address(long offset) {
            return offset < whole ? base + offset : offset == whole && tail != 0 ? tail : zero.address(0);
        }

        @Override
        public String describe() {
            return "image " + file.getFileName();
        }

        @Override
        public void close() {
            if (base != 0) {
                Libc.munmap(base, mapped);
            }
            zero.close();
            if (tailArena.scope().isAlive()) {
                tailArena.close();
            }
        }
    }
}
