package dev.faultline.guest;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Boots a real Debian kernel in QEMU over this host's root and runs commands inside. */
class GuestVmTest {
    static GuestConfig config(Duration runTimeout) {
        return new GuestConfig(1024, 2, Accel.detect(), null, 16, Duration.ofSeconds(120), runTimeout);
    }

    @Test
    void bootsAKernelThatRunsCommandsOverTheHostRoot(@TempDir Path dir) throws Exception {
        TestKernels.assumeQemu();
        KernelImage k = KernelImage.open(TestKernels.debian61());
        try (GuestVm vm = GuestVm.boot(k, config(Duration.ofMinutes(2)), dir)) {
            GuestVm.Result r = vm.run("uname -r; test -c /dev/userfaultfd && echo uffd; cat /proc/sys/vm/nr_hugepages; "
                    + "ls /usr/bin/qemu-system-x86_64; echo written > " + vm.inGuest("from-guest.txt") + "; echo oops >&2; exit 3", null);
            assertEquals(3, r.exit());
            assertEquals(k.release() + "\nuffd\n16\n/usr/bin/qemu-system-x86_64\n", r.out());
            assertEquals("oops\n", r.err());
            assertEquals("written\n", Files.readString(vm.scratch().resolve("from-guest.txt")));
            // the host's root is read-only in the guest
            assertTrue(vm.run("touch /etc/faultline-guest-write", null).exit() != 0);
            assertTrue(vm.bootNanos() > 0);
        }
    }

    @Test
    void killsACommandThatOutlivesItsTimeoutAndShowsTheConsole(@TempDir Path dir) throws Exception {
        TestKernels.assumeQemu();
        KernelImage k = KernelImage.open(TestKernels.debian61());
        try (GuestVm vm = GuestVm.boot(k, config(Duration.ofSeconds(3)), dir)) {
            GuestException e = assertThrows(GuestException.class, () -> vm.run("sleep 60", null));
            assertTrue(e.getMessage().startsWith("guest of kernel " + k.release() + " did not finish a command within 3 s; killed it"),
                    e.getMessage());
            assertTrue(e.console().stream().anyMatch(l -> l.contains(GuestVm.READY)), e.console().toString());
        }
    }
}
