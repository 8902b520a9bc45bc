package dev.faultline.core.trace;

import org.apache.arrow.vector.ipc.message.ArrowBlock;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.zip.CRC32C;

/**
 * The checksum of a record batch as it lies in a trace file: CRC32C over its message and body, the
 * bytes the footer's block names. The writer stores one per batch in the footer
 * ({@link TraceWriter#FOOTER_BATCH_CRC32C}); the reader checks each batch against it before decoding.
 */
final class TraceChecksums {
    private TraceChecksums() {
    }

    /** Reads {@code block}'s bytes from {@code channel} (without moving its position) into {@code buffer}, grown if needed. */
    static ByteBuffer read(FileChannel channel, ArrowBlock block, ByteBuffer buffer) throws IOException {
        long length = block.getMetadataLength() + block.getBodyLength();
        if (length > Integer.MAX_VALUE || length < 0) {
            throw new IOException("a batch of " + length + " bytes");
        }
        ByteBuffer b = buffer.capacity() >= length ? buffer.clear() : ByteBuffer.allocate((int) length);
        b.limit((int) length);
        long at = block.getOffset();
        while (b.hasRemaining()) {
            int n = channel.read(b, at + b.position());
            if (n < 0) {
                throw new EOFException("the batch at " + block.getOffset() + " runs past the end of the file");
            }
        }
        return b.flip();
    }

    /** CRC32C of {@code bytes}' remaining content. */
    static int crc32c(ByteBuffer bytes) {
        CRC32C crc = new CRC32C();
        crc.update(bytes.duplicate());
        return (int) crc.getValue();
    }
}
