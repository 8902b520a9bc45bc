package dev.faultline.guest;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A real Debian kernel package: its release from the bzImage header, its modules' load order, the initramfs. */
class KernelImageTest {
    @Test
    void readsTheReleaseAndFindsModulesAndConfigOfAnUnpackedPackage() throws Exception {
        Path image = TestKernels.debian61();
        KernelImage k = KernelImage.open(image);
        String expected = image.getFileName().toString().substring("vmlinuz-".length());
        assertEquals(expected, k.release());
        assertTrue(k.version().startsWith(expected + " ("), k.version());
        assertEquals(image.getParent().getParent().resolve("lib/modules/" + expected), k.modules());
        assertNotNull(k.config());
        // the package root names the same image
        assertEquals(k.image(), KernelImage.open(image.getParent().getParent()).image());
    }

    @Test
    void ordersModulesAfterWhatTheyDependOn() throws Exception {
        KernelImage k = KernelImage.open(TestKernels.debian61());
        KernelModules m = KernelModules.of(k);
        assertEquals("m", m.config("NET_9P_VIRTIO"));
        assertEquals("y", m.config("USERFAULTFD"));
        List<String> names = m.loadOrder(Initramfs.MODULES).stream().map(p -> p.getFileName().toString()).toList();
        // Debian 6.1 builds virtio and 9p as modules: 9p needs netfs and fscache, 9pnet_virtio needs 9pnet and virtio_ring
        assertTrue(names.indexOf("9pnet.ko") < names.indexOf("9pnet_virtio.ko"), names.toString());
        assertTrue(names.indexOf("virtio_ring.ko") < names.indexOf("virtio_pci.ko"), names.toString());
        assertTrue(names.indexOf("netfs.ko") < names.indexOf("9p.ko"), names.toString());
        assertEquals("9p.ko", names.getLast(), names.toString());
        assertEquals(names.size(), names.stream().distinct().count(), "each module once: " + names);
        GuestException e = assertThrows(GuestException.class, () -> m.loadOrder(List.of("no_such_module")));
        assertTrue(e.getMessage().startsWith("kernel " + k.release() + " has no module no_such_module"), e.getMessage());
    }

    @Test
    void refusesWhatIsNotABzImage(@TempDir Path dir) throws Exception {
        Path junk = dir.resolve("vmlinuz-junk");
        Files.write(junk, new byte[8192]);
        GuestException e = assertThrows(GuestException.class, () -> KernelImage.open(junk));
        assertEquals("kernel " + junk + " is not an x86 bzImage (no HdrS boot header): give a vmlinuz file", e.getMessage());
        assertThrows(GuestException.class, () -> KernelImage.open(dir.resolve("missing")));
    }
}
