package dev.faultline.core.trace;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * The rules every command follows for a file it is about to write (a trace, replay results): checked
 * before any work starts, its directory created if missing, a directory in its place refused, and a
 * file already there kept as {@code FILE.old} rather than lost.
 */
public final class OutputFile {
    private OutputFile() {
    }

    /**
     * Checks, before any work, that {@code out} can be written: refuses a directory, creates missing
     * parent directories, refuses a parent that cannot be written.
     *
     * @throws IOException one line naming {@code out} and what is wrong
     */
    public static void check(Path out) throws IOException {
        if (Files.isDirectory(out)) {
            throw new IOException("cannot write " + out + ": it is a directory; give a file name (e.g. " + out.resolve("trace.arrow") + ")");
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
