package dev.faultline.guest;

import org.apache.commons.compress.archivers.cpio.CpioArchiveEntry;
import org.apache.commons.compress.archivers.cpio.CpioArchiveOutputStream;
import org.apache.commons.compress.archivers.cpio.CpioConstants;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The guest's initramfs, a newc cpio archive: a static busybox, the modules the guest needs in load
 * order, and an {@code /init} that loads them, mounts the host's root read-only over 9p with the
 * scratch directory writable inside it, and runs {@code guest.sh} from the scratch directory in a
 * chroot there. It prints {@value GuestVm#READY} lines the host waits for and powers the guest off
 * when the script ends.
 *
 * <p>Nothing here is kernel-specific but the module files: the same {@code /init} boots every
 * kernel, so guests of different kernels differ only in the kernel.
 */
public final class Initramfs {
    /** The 9p mount tag of the host's root filesystem. */
    static final String ROOT_TAG = "hostroot";
    /** The 9p mount tag of the scratch directory. */
    static final String SCRATCH_TAG = "scratch";
    /** Where the scratch directory appears in the guest (on a tmpfs over the host's /run). */
    public static final String SCRATCH_IN_GUEST = "/run/faultline";

    /** The modules the guest loads (with what they depend on): 9p over virtio-pci. */
    static final List<String> MODULES = List.of("virtio_pci", "9pnet_virtio", "9p");

    private Initramfs() {
    }

    /**
     * Writes the archive for {@code kernel} to {@code out}.
     *
     * @param hugePages2m 2 MiB huge pages the guest reserves before the command runs
     * @throws GuestException one line when the kernel lacks what the guest needs
     */
    public static void write(KernelImage kernel, Path busybox, int hugePages2m, Path out) throws GuestException {
        KernelModules modules = KernelModules.of(kernel);
        requireConfig(kernel, modules);
        List<Path> load = modules.loadOrder(MODULES);
        try (CpioArchiveOutputStream cpio = new CpioArchiveOutputStream(new BufferedOutputStream(Files.newOutputStream(out)),
                CpioConstants.FORMAT_NEW)) {
            for (String dir : List.of("bin", "dev", "proc", "sys", "newroot", "modules")) {
                entry(cpio, dir, CpioConstants.C_ISDIR | 0755, null);
            }
            CpioArchiveEntry console = new CpioArchiveEntry(CpioConstants.FORMAT_NEW, "dev/console", 0);
            console.setMode(CpioConstants.C_ISCHR | 0600);
            console.setRemoteDeviceMaj(5);
            console.setRemoteDeviceMin(1);
            console.setNumberOfLinks(1);
            cpio.putArchiveEntry(console);
            cpio.closeArchiveEntry();
            entry(cpio, "bin/busybox", CpioConstants.C_ISREG | 0755, Files.readAllBytes(busybox));
            int i = 0;
            StringBuilder insmod = new StringBuilder();
            for (Path m : load) {
                String name = String.format("modules/%02d-%s.ko", i++, moduleName(m));
                entry(cpio, name, CpioConstants.C_ISREG | 0644, KernelModules.read(m));
                insmod.append("/bin/busybox insmod /").append(name).append(" || echo \"FL-FAIL: insmod ").append(moduleName(m))
                        .append(" failed\"\n");
            }
            entry(cpio, "init", CpioConstants.C_ISREG | 0755, init(insmod.toString(), hugePages2m).getBytes(StandardCharsets.US_ASCII));
            cpio.finish();
        } catch (IOException e) {
            throw new GuestException("cannot write the guest's initramfs " + out + " (" + e.getMessage() + ")");
        }
    }

    private static void requireConfig(KernelImage kernel, KernelModules modules) throws GuestException {
        String[][] needs = {
            {"USERFAULTFD", "userfaultfd itself"},
            {"VIRTIO_PCI", "virtio-pci, for the 9p devices"},
            {"NET_9P_VIRTIO", "9p over virtio, to see the host's root filesystem"},
            {"9P_FS", "the 9p file system"},
            {"DEVTMPFS", "devtmpfs, for /dev/userfaultfd"},
            {"TMPFS", "tmpfs"},
            {"SERIAL_8250_CONSOLE", "a serial console, the only way the guest talks to the host"},
        };
        for (String[] need : needs) {
            String v = modules.config(need[0]);
            if ("n".equals(v)) {
                throw new GuestException("kernel " + kernel.release() + " cannot run here: it lacks " + need[1]
                        + " (CONFIG_" + need[0] + " is not set in " + kernel.config() + ")");
            }
        }
    }

    private static String moduleName(Path m) {
        String n = m.getFileName().toString();
        return n.substring(0, n.indexOf(".ko"));
    }

    private static void entry(CpioArchiveOutputStream cpio, String name, long mode, byte[] body) throws IOException {
        CpioArchiveEntry e = new CpioArchiveEntry(CpioConstants.FORMAT_NEW, name, body == null ? 0 : body.length);
        e.setMode(mode);
        e.setNumberOfLinks((mode & CpioConstants.S_IFMT) == CpioConstants.C_ISDIR ? 2 : 1);
        e.setTime(0);
        cpio.putArchiveEntry(e);
        if (body != null) {
            cpio.write(body);
        }
        cpio.closeArchiveEntry();
    }

    /** The {@code /init} script (busybox sh). */
    static String init(String insmod, int hugePages2m) {
        String bb = "/bin/busybox";
        String r = "/newroot";
        String nine = "-o version=9p2000.L,trans=virtio,access=any,msize=524288";
        return "#!" + bb + " sh\n"
                + bb + " mount -t proc proc /proc\n"
                + bb + " mount -t devtmpfs dev /dev\n"
                + "echo \"FL-BOOT: init at $(" + bb + " cut -d' ' -f1 /proc/uptime) s\"\n"
                + insmod
                // the host's root with the guest's page cache (cache=loose): read-only here, and a JVM reads its
                // jars and JDK in small pieces, each a 9p round trip without it (faultline --version: 20 s -> 14 s under TCG)
                + bb + " mount -t 9p " + nine + ",ro,cache=loose " + ROOT_TAG + " " + r + " || echo 'FL-FAIL: cannot mount the host root over 9p'\n"
                + bb + " mount -t proc proc " + r + "/proc\n"
                + bb + " mount -t sysfs sys " + r + "/sys\n"
                + bb + " mount -t devtmpfs dev " + r + "/dev\n"
                + bb + " mount -t tmpfs run " + r + "/run\n"
                + bb + " mkdir -p " + r + "/dev/shm " + r + SCRATCH_IN_GUEST + "\n"
                + bb + " mount -t tmpfs shm " + r + "/dev/shm\n"
                + bb + " mount -t 9p " + nine + " " + SCRATCH_TAG + " " + r + SCRATCH_IN_GUEST
                + " || echo 'FL-FAIL: cannot mount the scratch directory over 9p'\n"
                + "echo " + hugePages2m + " > /proc/sys/vm/nr_hugepages\n"
                + bb + " hostname faultline-guest\n"
                + bb + " ip link set lo up\n" // JMH's forks talk to their parent over loopback
                + bb + " chroot " + r + " /bin/sh " + SCRATCH_IN_GUEST + "/guest.sh\n"
                + "echo \"FL-EXIT: $?\"\n"
                + bb + " sync\n"
                + bb + " poweroff -f\n";
    }
}
