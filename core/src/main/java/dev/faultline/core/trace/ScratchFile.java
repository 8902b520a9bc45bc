package dev.faultline.core.trace;

import dev.faultline.core.abi.Errno;
import dev.faultline.core.abi.Libc;
import dev.faultline.core.abi.MmanAbi;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A file for work nobody keeps (a warm-up's trace, results that are only summarised): an unnamed
 * file in the temporary directory (open(2) with O_TMPFILE), reached through
 * {@code /proc/self/fd/N} for as long as this is open. The kernel frees it when the last descriptor
 * closes, so nothing is left in the temporary directory after any end, SIGKILL included.
 *
 * <p>Where the directory's file system has no O_TMPFILE (9p, which a guest's temporary directory is
 * on; some network file systems), {@link #create()} and {@link #create(Path)} make a hidden named
 * file instead, {@code .faultline-scratch-PID-N}, removed by {@link #close}: only a SIGKILL then
 * leaves a name behind. Such a file cannot be {@linkplain #linkAs linked}.
 */
public final class ScratchFile implements AutoCloseable {
    private static final AtomicLong NEXT = new AtomicLong();
    private final int fd;
    private final Path path;
    /** The hidden name of a file made where O_TMPFILE is missing, or null for an unnamed file. */
    private final Path named;
    private boolean closed;

    private ScratchFile(int fd, Path named) {
        this.fd = fd;
        this.path = Path.of("/proc/self/fd/" + fd);
        this.named = named;
    }

    /** An empty scratch file in {@code java.io.tmpdir}. */
    public static ScratchFile create() throws IOException {
        return create(Path.of(System.getProperty("java.io.tmpdir", "/tmp")));
    }

    /**
     * An empty scratch file in {@code dir}'s file system, readable by its owner only: unnamed, or a
     * hidden named one where that file system has no O_TMPFILE.
     */
    public static ScratchFile create(Path dir) throws IOException {
        int fd = Libc.open(dir.toString(), MmanAbi.O_TMPFILE | MmanAbi.O_RDWR | MmanAbi.O_CLOEXEC, 0600);
        if (fd != -Errno.EOPNOTSUPP) {
            return opened(fd, dir);
        }
        while (true) {
            Path named = dir.resolve(".faultline-scratch-" + ProcessHandle.current().pid() + "-" + NEXT.incrementAndGet());
            fd = Libc.open(named.toString(), MmanAbi.O_CREAT | MmanAbi.O_EXCL | MmanAbi.O_RDWR | MmanAbi.O_CLOEXEC, 0600);
            if (fd != -Errno.EEXIST) { // left by a killed process of the same pid: take the next name
                if (fd < 0) {
                    throw new IOException("cannot create a scratch file " + named + ": open failed with " + Errno.name(-fd));
                }
                return new ScratchFile(fd, named);
            }
        }
    }

    /**
     * An empty scratch file in {@code dir}'s file system with permission bits {@code mode} (less the
     * umask, as for any new file): 0666 for one that {@link #linkAs} will name.
     */
    public static ScratchFile create(Path dir, int mode) throws IOException {
        return opened(Libc.open(dir.toString(), MmanAbi.O_TMPFILE | MmanAbi.O_RDWR | MmanAbi.O_CLOEXEC, mode), dir);
    }

    private static ScratchFile opened(int fd, Path dir) throws IOException {
        if (fd < 0) {
            throw new IOException("cannot create a scratch file in " + dir + ": open(O_TMPFILE) failed with " + Errno.name(-fd));
        }
        return new ScratchFile(fd, null);
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
        if (named != null) {
            throw new IOException("cannot write " + target + ": its scratch file " + named + " is a named one, which cannot be linked");
        }
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
            if (named != null) {
                try {
                    Files.deleteIfExists(named);
                } catch (IOException e) {
                    // a hidden scratch file left in the temporary directory costs disk, not the work it served
                }
            }
        }
    }
}
