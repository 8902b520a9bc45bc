package dev.faultline.guest;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A real Debian bzImage unpacked to its ELF kernel, and the bzImage kept where that cannot be done. */
class BootImageTest {
    @Test
    void unpacksDebiansKernelToAnElfWithAPvhEntryOnceAndThenReusesIt() throws Exception {
        KernelImage k = KernelImage.open(TestKernels.debian61());
        BootImage first = BootImage.of(k);
        assertTrue(first.pvh(), first.why());
        assertEquals(BootImage.cacheDir(), first.path().getParent());
        assertTrue(first.path().getFileName().toString().startsWith("vmlinux-" + k.release() + "-"), first.path().toString());
        byte[] magic = new byte[4];
        try (var in = Files.newInputStream(first.path())) {
            assertEquals(4, in.read(magic));
        }
        assertArrayEquals(new byte[] {0x7F, 'E', 'L', 'F'}, magic);
        assertTrue(BootImage.hasPvhEntry(first.path()));
        // several times the bzImage: the whole kernel, not a prefix
        assertTrue(Files.size(first.path()) > 3 * Files.size(k.image()), Files.size(first.path()) + " bytes");
        long unpacked = Files.getLastModifiedTime(first.path()).toMillis();
        BootImage again = BootImage.of(k);
        assertEquals(first, again);
        assertEquals(unpacked, Files.getLastModifiedTime(again.path()).toMillis(), "the second use unpacks nothing");
        try (var s = Files.list(BootImage.cacheDir())) {
            assertTrue(s.noneMatch(p -> p.getFileName().toString().endsWith(".partial")), "no partial file left");
        }
    }

    @Test
    void aPayloadThatCannotBeUnpackedBootsTheBzImageAndSaysWhy(@TempDir Path dir) throws Exception {
        KernelImage real = KernelImage.open(TestKernels.debian61());
        byte[] bz = Files.readAllBytes(real.image());
        ByteBuffer h = ByteBuffer.wrap(bz).order(ByteOrder.LITTLE_ENDIAN);
        int setupSects = bz[0x1F1] == 0 ? 4 : bz[0x1F1] & 0xFF;
        int payload = (setupSects + 1) * 512 + h.getInt(0x248);
        for (int i = 0; i < 64; i++) {
            bz[payload + i] = (byte) 0xA5; // no compressor's magic
        }
        Path image = dir.resolve(real.image().getFileName());
        Files.write(image, bz);
        BootImage b = BootImage.of(KernelImage.open(image));
        assertFalse(b.pvh());
        assertEquals(image.toAbsolutePath(), b.path());
        assertTrue(b.why().startsWith("its payload is compressed in a way faultline cannot unpack"), b.why());
    }

    @Test
    void onlyAnElfWithTheXenPhys32EntryNoteHasAPvhEntry(@TempDir Path dir) throws Exception {
        Path notElf = dir.resolve("junk");
        Files.write(notElf, new byte[4096]);
        assertFalse(BootImage.hasPvhEntry(notElf));
        Path self = Path.of("/proc/self/exe").toRealPath(); // the JVM's launcher: an ELF with notes, none of them Xen's
        assertFalse(BootImage.hasPvhEntry(self));
    }
}
