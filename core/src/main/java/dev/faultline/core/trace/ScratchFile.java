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

    /** An empty scratch file in {@code dir}'s file system, readable by its owner only. */
    public static ScratchFile create(Path dir) throws IOException {
        return create(dir, 0600);
    }

    /**
     * An empty scratch file in {@code dir}'s file system with permission bits {@code mode} (less the
     * umask, as for any new file): 0666 for one that {@link #linkAs} will name.
     */
    public static ScratchFile create(Path dir, int mode) throws IOException {
        int fd = Libc.open(dir.toString(), MmanAbi.O_TMPFILE | MmanAbi.O_RDWR | MmanAbi.O_CLOEXEC, mode);
        if (fd < 0) {
            throw new IOException("cannot create a scratch file in " + dir + ": open(O_TMPFILE) failed with " + Errno.name(-fd));
        }
        return new ScratchFile(fd);
    }

    /** Where to open it (a path each open re-opens, as long as this is not closed). */
    public Path path() {
        return path;
    }

    /**
     * Gives the file the name {@code target} (replacing a file there) once it is complete: linked
     * under a hidden name beside it (linkat(2) of /proc/self/fd/N), then renamed over {@code target}.
     * The scratch file must have been created in {@code target}'s file system.
     *
     * @throws IOException naming {@code target} and the errno
     */
    public void linkAs(Path target) throws IOException {
        Path hidden = target.resolveSibling("." + target.getFileName() + ".linking-" + ProcessHandle.current().pid());
        java.nio.file.Files.deleteIfExists(hidden);
        int r = Libc.linkat(MmanAbi.AT_FDCWD, path.toString(), MmanAbi.AT_FDCWD, hidden.toString(), MmanAbi.AT_SYMLINK_FOLLOW);
        if (r < 0) {
            throw new IOException("cannot write " + target + ": linkat of the finished file failed with " + Errno.name(-r));
        }
        try {
            java.nio.file.Files.move(hidden, target, java.nio.file.StandardCopyOption.ATOMIC_MOVE,
                    java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            java.nio.file.Files.deleteIfExists(hidden);
            throw e;
        }
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
