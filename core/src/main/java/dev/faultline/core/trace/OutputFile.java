package dev.faultline.core.trace;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * The rules every command follows for a file it is about to write (a trace, replay results): checked
 * before any work starts, its directory created if missing, a directory in its place refused, and a
 * file already there kept as {@code FILE.old} rather than lost, and one writer at a time ({@link #claim}).
 */
public final class OutputFile {
    private OutputFile() {
    }

    /**
     * Checks, before any work, that {@code out} can be written: refuses a directory, a device, pipe or
     * socket (which would be moved aside as .old and replaced by a file), creates missing
     * parent directories, refuses a parent that cannot be written.
     *
     * @throws IOException one line naming {@code out} and what is wrong
     */
    public static void check(Path out) throws IOException {
        if (Files.isDirectory(out)) {
            throw new IOException("cannot write " + out + ": it is a directory; give a file name (e.g. " + out.resolve("trace.arrow") + ")");
        }
        if (Files.exists(out) && !Files.isRegularFile(out)) {
            // a device, pipe or socket: moving it aside as .old and writing a file in its place would break whatever uses it
            throw new IOException("cannot write " + out + ": it is a device, pipe or socket, not a file; give a file name");
        }
        Path dir = out.toAbsolutePath().getParent();
        if (dir != null && !Files.isDirectory(dir)) {
            if (Files.exists(dir)) {
                throw new IOException("cannot write " + out + ": " + dir + " is a file, not a directory");
            }
            Files.createDirectories(dir);
        }
        if (dir != null && !Files.isWritable(dir)) {
            throw new IOException("cannot write " + out + ": its directory " + dir + " is not writable");
        }
    }

    /** An output claimed by this process until closed: a second writer of the same file is refused, not interleaved. */
    public static final class Claim implements AutoCloseable {
        private final Path lockFile;
        private final FileChannel channel;
        private final FileLock lock;

        private Claim(Path lockFile, FileChannel channel, FileLock lock) {
            this.lockFile = lockFile;
            this.channel = channel;
            this.lock = lock;
        }

        @Override
        public void close() throws IOException {
            try {
                Files.deleteIfExists(lockFile); // before the release: a waiting writer finds the file gone or its own
                lock.release();
            } finally {
                channel.close();
            }
        }
    }

    /**
     * Claims {@code out} for this process: an exclusive lock on {@code .NAME.lock} beside it, which
     * the kernel drops if the process dies. Refuses, in one line naming the holder's pid, when
     * another process is writing the same file.
     */
    public static Claim claim(Path out) throws IOException {
        check(out);
        Path lockFile = out.resolveSibling("." + out.getFileName() + ".lock");
        FileChannel ch = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
        FileLock lock;
        try {
            lock = ch.tryLock();
        } catch (java.nio.channels.OverlappingFileLockException e) {
            lock = null; // held by this very process (another command run in the same JVM)
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
        if (lock == null) {
            String holder;
            try {
                holder = Files.readString(lockFile).strip();
            } catch (IOException e) {
                holder = "?";
            }
            ch.close();
            throw new IOException("another faultline (pid " + (holder.isEmpty() ? "?" : holder) + ") is writing " + out
                    + ": wait for it to finish or give another -o");
        }
        ch.truncate(0);
        ch.write(java.nio.ByteBuffer.wrap((ProcessHandle.current().pid() + "\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII)), 0);
        return new Claim(lockFile, ch, lock);
    }

    /**
     * Where {@code out} is built before it is moved into place: {@code .NAME.partial} beside it,
     * hidden, so that a writer killed outright (SIGKILL, power loss) leaves nothing a user takes for
     * output, and the next writer of {@code out} starts by removing it.
     */
    public static Path partial(Path out) {
        return out.resolveSibling("." + out.getFileName() + ".partial");
    }

    /** Renames a complete {@code partial} to {@code target}, replacing what was there; atomically where the file system can. */
    public static void moveIntoPlace(Path partial, Path target) throws IOException {
        try {
            Files.move(partial, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(partial, target, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /**
     * Refuses to write {@code out} when it is {@code input}, the file the command reads (under any name).
     *
     * @throws IOException one line naming both
     */
    public static void refuseInput(Path out, Path input) throws IOException {
        if (Files.exists(out) && Files.exists(input) && Files.isSameFile(out, input)) {
            throw new IOException("cannot write " + out + ": it is " + input + ", the file being read; give another -o");
        }
    }

    /**
     * Moves an existing {@code out} to {@code out.old} (replacing an older one); returns that path, or
     * null when there was nothing to keep.
     */
    public static Path keepPrevious(Path out) throws IOException {
        if (!Files.exists(out)) {
            return null;
        }
        check(out);
        Path old = out.resolveSibling(out.getFileName() + ".old");
        Files.move(out, old, StandardCopyOption.REPLACE_EXISTING);
        return old;
    }
}
