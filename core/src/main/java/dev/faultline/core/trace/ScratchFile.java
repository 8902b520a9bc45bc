package dev.faultline.core.trace;

import dev.faultline.core.abi.Errno;
import dev.faultline.core.abi.Libc;
import dev.faultline.core.abi.MmanAbi;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A file for work nobody keeps (a warm-up's trace, results that are only summarised): an unnamed
 * file in the temporary directory (open(2) with O_TMPFILE), reached through
 * {@code /proc/self/fd/N} for as long as this is open. The kernel frees it when the last descriptor
 * closes, so nothing is left in the temporary directory after any end, SIGKILL included.
 */
public final class ScratchFile implements AutoCloseable {
    private final int fd;
    private final Path path;
    private boolean closed;

    private ScratchFile(int fd) {
        this.fd = fd;
        this.path = Path.of("/proc/self/fd/" + fd);
    }

    /** An empty scratch file in {@code java.io.tmpdir}. */
    public static ScratchFile create() throws IOException {
        return create(Path.of(System.getProperty("java.io.tmpdir", "/tmp")));
    }

    /** An empty scratch file in {@code dir}'s file system. */
    public static ScratchFile create(Path dir) throws IOException {
        int fd = Libc.open(dir.toString(), MmanAbi.O_TMPFILE | MmanAbi.O_RDWR | MmanAbi.O_CLOEXEC, 0600);
        if (fd < 0) {
            throw new IOException("cannot create a scratch file in " + dir + ": open(O_TMPFILE) failed with " + Errno.name(-fd));
        }
        return new ScratchFile(fd);
    }

    /** Where to open it (a path each open re-opens, as long as this is not closed). */
    public Path path() {
        return path;
    }

    /** Frees the file. Idempotent. */
    @Override
    public void close() {
        if (!closed) {
            closed = true;
            Libc.close(fd);
        }
    }
}
