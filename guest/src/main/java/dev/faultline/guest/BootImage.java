package dev.faultline.guest;

import org.apache.commons.compress.compressors.CompressorException;
import org.apache.commons.compress.compressors.CompressorStreamFactory;

import java.io.BufferedInputStream;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The file QEMU's {@code -kernel} is given for a {@link KernelImage}: the uncompressed ELF kernel
 * that the bzImage carries, when that kernel has a PVH entry point, else the bzImage itself.
 *
 * <p>A bzImage is booted by the firmware's kernel loader and then decompresses itself inside the
 * guest; under TCG that is most of a boot (Debian's 6.1: 6.5 s from QEMU's start to the guest's
 * ready line, against 3.3 s for its ELF through PVH; docs/kernels.md). A kernel built with
 * {@code CONFIG_PVH} (Debian's are) has the ELF note {@code XEN_ELFNOTE_PHYS32_ENTRY}, and QEMU
 * starts such an ELF in 32-bit mode at that entry with no loader and no decompression.
 *
 * <p>The ELF is unpacked from the bzImage's payload once per image (named by its release and the
 * SHA-256 of the bzImage) into {@code ~/.cache/faultline/vmlinux}, written under a temporary name
 * beside its final one and moved there complete. Invariant: {@code path} is a readable file; when {@code pvh} it is an ELF with
 * the PVH note, else it is the bzImage and {@code why} says why the ELF is not used.
 *
 * @param path the file to boot
 * @param pvh  whether it is the ELF, entered through PVH
 * @param why  when not {@code pvh}: why not, for the output ("its payload is lz4, which …"); else ""
 */
public record BootImage(Path path, boolean pvh, String why) {
    /** {@code XEN_ELFNOTE_PHYS32_ENTRY}: the 32-bit entry point of a PVH kernel (xen/interface/elfnote.h). */
    static final int XEN_ELFNOTE_PHYS32_ENTRY = 18;
    private static final int PT_NOTE = 4;
    /** Setup header offsets of the x86 boot protocol (Documentation/arch/x86/boot.rst). */
    private static final int SETUP_SECTS = 0x1F1;
    private static final int BOOT_PROTOCOL_VERSION = 0x206;
    private static final int PAYLOAD_OFFSET = 0x248;
    private static final int PAYLOAD_LENGTH = 0x24C;

    /** The directory of unpacked ELF kernels. */
    public static Path cacheDir() {
        return Path.of(System.getProperty("user.home"), ".cache", "faultline", "vmlinux");
    }

    /**
     * What to boot for {@code kernel}: its ELF from the cache, unpacking it first when the cache has
     * none (a second or two for a Debian kernel), or its bzImage when it has no PVH entry or a payload
     * this cannot unpack.
     *
     * @throws GuestException when the bzImage cannot be read or the ELF cannot be written
     */
    public static BootImage of(KernelImage kernel) throws GuestException {
        Path image = kernel.image();
        byte[] bz;
        try {
            bz = Files.readAllBytes(image);
        } catch (IOException e) {
            throw new GuestException("kernel " + image + ": cannot read it (" + e.getMessage() + ")");
        }
        Path elf = cacheDir().resolve("vmlinux-" + kernel.release() + "-" + sha256(bz).substring(0, 16));
        if (Files.isReadable(elf)) {
            return new BootImage(elf, true, "");
        }
        ByteBuffer header = ByteBuffer.wrap(bz).order(ByteOrder.LITTLE_ENDIAN);
        if (bz.length < PAYLOAD_LENGTH + 4 || (header.getShort(BOOT_PROTOCOL_VERSION) & 0xFFFF) < 0x208) {
            return new BootImage(image, false, "its boot protocol is older than 2.08, which names no payload");
        }
        int setupSects = bz[SETUP_SECTS] == 0 ? 4 : bz[SETUP_SECTS] & 0xFF;
        long start = (setupSects + 1L) * 512 + (header.getInt(PAYLOAD_OFFSET) & 0xFFFFFFFFL);
        long length = header.getInt(PAYLOAD_LENGTH) & 0xFFFFFFFFL;
        if (start + length > bz.length || length < 16) {
            return new BootImage(image, false, "its payload lies outside the file");
        }
        Path partial = null;
        try {
            Files.createDirectories(elf.getParent());
            // a name of its own: two faultlines unpacking the same kernel at once each move a whole file into place
            partial = Files.createTempFile(elf.getParent(), "." + elf.getFileName() + ".", ".partial");
            try (InputStream in = CompressorStreamFactory.getSingleton().createCompressorInputStream(
                    new BufferedInputStream(new ByteArrayInputStream(bz, (int) start, (int) length)));
                 OutputStream out = Files.newOutputStream(partial)) {
                in.transferTo(out);
            }
            if (!hasPvhEntry(partial)) {
                Files.delete(partial);
                return new BootImage(image, false, "it has no PVH entry point (CONFIG_PVH)");
            }
            Files.move(partial, elf, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            return new BootImage(elf, true, "");
        } catch (CompressorException e) {
            deleteQuietly(partial);
            return new BootImage(image, false, "its payload is compressed in a way faultline cannot unpack ("
                    + e.getMessage() + ")");
        } catch (IOException e) {
            deleteQuietly(partial);
            throw new GuestException("cannot unpack the ELF kernel of " + image + " into " + elf.getParent() + " ("
                    + e.getMessage() + ")");
        }
    }

    /** Whether {@code file} is a 64-bit little-endian ELF with the {@link #XEN_ELFNOTE_PHYS32_ENTRY} note. */
    static boolean hasPvhEntry(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer eh = read(ch, 0, 64);
            if (eh == null || eh.getInt(0) != 0x464C457F || eh.get(4) != 2 || eh.get(5) != 1) { // "\177ELF", ELFCLASS64, ELFDATA2LSB
                return false;
            }
            long phoff = eh.getLong(0x20);
            int phentsize = eh.getShort(0x36) & 0xFFFF;
            int phnum = eh.getShort(0x38) & 0xFFFF;
            for (int i = 0; i < phnum; i++) {
                ByteBuffer ph = read(ch, phoff + (long) i * phentsize, 56);
                if (ph == null) {
                    return false;
                }
                if (ph.getInt(0) == PT_NOTE && ph.getLong(0x20) < (1 << 20)) {
                    ByteBuffer notes = read(ch, ph.getLong(8), (int) ph.getLong(0x20));
                    if (notes != null && hasNote(notes, "Xen", XEN_ELFNOTE_PHYS32_ENTRY)) {
                        return true;
                    }
                }
            }
            return false;
        }
    }

    /** Whether the ELF notes in {@code notes} hold one named {@code name} of {@code type}. */
    private static boolean hasNote(ByteBuffer notes, String name, int type) {
        int at = 0;
        while (at + 12 <= notes.limit()) {
            int namesz = notes.getInt(at);
            int descsz = notes.getInt(at + 4);
            int t = notes.getInt(at + 8);
            if (namesz < 0 || descsz < 0) {
                return false;
            }
            int nameAt = at + 12;
            if (t == type && namesz == name.length() + 1 && nameAt + namesz <= notes.limit()) {
                byte[] n = new byte[name.length()];
                notes.get(nameAt, n);
                if (new String(n, StandardCharsets.US_ASCII).equals(name)) {
                    return true;
                }
            }
            at = nameAt + align4(namesz) + align4(descsz);
        }
        return false;
    }

    private static int align4(int n) {
        return (n + 3) & ~3;
    }

    private static ByteBuffer read(FileChannel ch, long at, int length) throws IOException {
        if (at < 0 || at + length > ch.size()) {
            return null;
        }
        ByteBuffer b = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
        while (b.hasRemaining()) {
            if (ch.read(b, at + b.position()) < 0) {
                return null;
            }
        }
        return b.flip();
    }

    private static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e);
        }
    }

    private static void deleteQuietly(Path p) {
        try {
            if (p != null) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            // a leftover partial file is replaced by the next unpacking
        }
    }
}
