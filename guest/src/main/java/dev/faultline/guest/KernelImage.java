package dev.faultline.guest;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * An x86 Linux kernel image (a bzImage such as Debian's {@code /boot/vmlinuz-6.1.0-47-amd64}) to boot
 * in a guest, with its release as the image itself states it and where its modules and build
 * configuration are.
 *
 * <p>Invariant: {@code image} is a readable bzImage (the boot protocol's {@code HdrS} header is
 * there) and {@code release} is the first word of the version string the image carries — what
 * {@code uname -r} prints once it runs. {@code modules} is {@code lib/modules/RELEASE} beside the
 * image (an unpacked package: {@code ROOT/boot/vmlinuz-R} and {@code ROOT/lib/modules/R}) or on the
 * host, or null when neither exists; {@code config} likewise for {@code config-RELEASE}.
 */
public record KernelImage(Path image, String release, String version, Path modules, Path config) {

    /** Offset of the boot protocol's header magic {@code HdrS} in a bzImage. */
    private static final int HDRS_OFFSET = 0x202;
    /** Offset of the setup header's {@code kernel_version} pointer (relative to 0x200). */
    private static final int KERNEL_VERSION_OFFSET = 0x20E;

    /**
     * The image at {@code path}: a bzImage file, or a directory holding one under {@code boot/} (an
     * unpacked {@code linux-image-*} package, as {@code scripts/fetch-kernel} leaves it).
     *
     * @throws GuestException one line when it is no such thing
     */
    public static KernelImage open(Path path) throws GuestException {
        Path image = Files.isDirectory(path) ? findImage(path) : path;
        if (!Files.isRegularFile(image)) {
            throw new GuestException("kernel " + path + ": no such file");
        }
        byte[] head;
        try (InputStream in = Files.newInputStream(image)) {
            head = in.readNBytes(64 * 1024);
        } catch (IOException e) {
            throw new GuestException("kernel " + image + ": cannot read it (" + e.getMessage() + ")");
        }
        if (head.length < 0x210 || head[HDRS_OFFSET] != 'H' || head[HDRS_OFFSET + 1] != 'd'
                || head[HDRS_OFFSET + 2] != 'r' || head[HDRS_OFFSET + 3] != 'S') {
            throw new GuestException("kernel " + image + " is not an x86 bzImage (no HdrS boot header): give a vmlinuz file");
        }
        int at = 0x200 + ((head[KERNEL_VERSION_OFFSET] & 0xff) | (head[KERNEL_VERSION_OFFSET + 1] & 0xff) << 8);
        int end = at;
        while (end < head.length && head[end] != 0) {
            end++;
        }
        if (at >= head.length || end == at) {
            throw new GuestException("kernel " + image + " carries no version string in its boot header");
        }
        String version = new String(head, at, end - at, StandardCharsets.US_ASCII);
        String release = version.split(" ", 2)[0];
        Path root = image.toAbsolutePath().getParent();
        Path pkg = root != null && root.getFileName() != null && root.getFileName().toString().equals("boot") ? root.getParent() : null;
        List<Path> moduleDirs = new ArrayList<>();
        List<Path> configs = new ArrayList<>();
        if (pkg != null) {
            moduleDirs.add(pkg.resolve("lib/modules/" + release));
            moduleDirs.add(pkg.resolve("usr/lib/modules/" + release));
        }
        if (root != null) {
            configs.add(root.resolve("config-" + release));
        }
        moduleDirs.add(Path.of("/lib/modules", release));
        configs.add(Path.of("/boot/config-" + release));
        Path modules = moduleDirs.stream().filter(Files::isDirectory).findFirst().orElse(null);
        if (modules != null) {
            configs.add(modules.resolve("build/.config"));
        }
        Path config = configs.stream().filter(Files::isRegularFile).findFirst().orElse(null);
        return new KernelImage(image.toAbsolutePath(), release, version, modules, config);
    }

    private static Path findImage(Path dir) throws GuestException {
        Path boot = Files.isDirectory(dir.resolve("boot")) ? dir.resolve("boot") : dir;
        try (Stream<Path> s = Files.list(boot)) {
            List<Path> images = s.filter(p -> p.getFileName().toString().startsWith("vmlinuz")).sorted().toList();
            if (images.size() != 1) {
                throw new GuestException("kernel " + dir + ": " + (images.isEmpty() ? "holds no vmlinuz*" : "holds "
                        + images.size() + " vmlinuz* files") + " under " + boot + "; name the image itself");
            }
            return images.getFirst();
        } catch (IOException e) {
            throw new GuestException("kernel " + dir + ": cannot list it (" + e.getMessage() + ")");
        }
    }
}
