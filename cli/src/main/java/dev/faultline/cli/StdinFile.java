package dev.faultline.cli;

import dev.faultline.core.trace.ScratchFile;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code -} as a file argument: standard input, read to the end into an unnamed scratch file (an
 * Arrow file is read by seeking to its footer, which a pipe cannot do), so that
 * {@code ssh host cat t.arrow | faultline analyze -} works. At most one {@code -} per command.
 */
final class StdinFile implements AutoCloseable {
    /** How stdin is named on the command line. */
    static final Path DASH = Path.of("-");

    private ScratchFile scratch;

    /** {@code files} with {@code -} replaced by a file holding stdin's bytes (read once, when first met). */
    List<Path> resolve(List<Path> files, InputStream stdin) throws IOException {
        List<Path> out = new ArrayList<>(files.size());
        for (Path f : files) {
            out.add(resolve(f, stdin));
        }
        return out;
    }

    /** {@code file}, or stdin's bytes in a scratch file when it is {@code -}. */
    Path resolve(Path file, InputStream stdin) throws IOException {
        if (!file.equals(DASH)) {
            return file;
        }
        if (scratch != null) {
            throw new IOException("- (standard input) can be given once");
        }
        scratch = ScratchFile.create();
        try (OutputStream o = Files.newOutputStream(scratch.path())) {
            stdin.transferTo(o);
        }
        return scratch.path();
    }

    @Override
    public void close() {
        if (scratch != null) {
            scratch.close();
        }
    }
}
