package dev.faultline.guest;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Finds the statically linked busybox the initramfs runs before the host's root is mounted (Debian's
 * {@code busybox-static}): beside the kernel package ({@code scripts/fetch-kernel} unpacks it there),
 * or installed on the host.
 */
public final class Busybox {
    /** ELF program header type of the dynamic loader's path: a static binary has none. */
    private static final int PT_INTERP = 3;

    private Busybox() {
    }

    /** The first static busybox among the candidates for {@code kernel}. */
    public static Path locate(KernelImage kernel) throws GuestException {
        List<Path> candidates = new ArrayList<>();
        String env = System.getenv("FAULTLINE_BUSYBOX");
        if (env != null && !env.isBlank()) {
            candidates.add(Path.of(env));
        }
        Path boot = kernel.image().getParent();
        if (boot != null && boot.getParent() != null && boot.getParent().getParent() != null) {
            candidates.add(boot.getParent().getParent().resolve("busybox-static/bin/busybox"));
        }
        candidates.add(Path.of("/bin/busybox"));
        candidates.add(Path.of("/usr/bin/busybox"));
        List<String> dynamic = new ArrayList<>();
        for (Path c : candidates) {
            if (Files.isRegularFile(c)) {
                if (isStatic(c)) {
                    return c;
                }
                dynamic.add(c.toString());
            }
        }
        throw new GuestException("no static busybox for the guest's initramfs" + (dynamic.isEmpty() ? "" : " ("
                + String.join(", ", dynamic) + " is dynamically linked)") + ": apt-get install busybox-static, "
                + "or run scripts/fetch-kernel, or set FAULTLINE_BUSYBOX");
    }

    static boolean isStatic(Path elf) throws GuestException {
        try (InputStream in = Files.newInputStream(elf)) {
            byte[] head = in.readNBytes(64 * 1024);
            if (!KernelModules.isElf64(head)) {
                return false;
            }
            ByteBuffer b = ByteBuffer.wrap(head).order(ByteOrder.LITTLE_ENDIAN);
            long phoff = b.getLong(0x20);
            int phentsize = Short.toUnsignedInt(b.getShort(0x36));
            int phnum = Short.toUnsignedInt(b.getShort(0x38));
            for (int i = 0; i < phnum; i++) {
                long at = phoff + (long) i * phentsize;
                if (at + 4 > head.length) {
                    return false;
                }
                if (b.getInt((int) at) == PT_INTERP) {
                    return false;
                }
            }
            return true;
        } catch (IOException e) {
            throw new GuestException("cannot read " + elf + " (" + e.getMessage() + ")");
        }
    }
}
