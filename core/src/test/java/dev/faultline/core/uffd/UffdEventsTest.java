package dev.faultline.core.uffd;

import dev.faultline.core.abi.Libc;
import dev.faultline.core.abi.MmanAbi;
import dev.faultline.core.abi.UffdAbi;
import dev.faultline.core.region.Backend;
import dev.faultline.core.region.Region;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.time.Duration;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Provokes each non-fault event for real and checks how it decodes. */
class UffdEventsTest {
    private static final long LEN = 4 * 4096;
    private static final long EVENTS = UffdFeature.maskOf(UffdFeature.EVENT_FORK, UffdFeature.EVENT_REMAP,
            UffdFeature.EVENT_REMOVE, UffdFeature.EVENT_UNMAP);

    private static UffdMessage awaitOne(MessagePump pump) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (pump.messages.isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertEquals(1, pump.messages.size(), "messages: " + pump.messages);
        return pump.messages.getFirst();
    }

    private static UffdMessage awaitFirst(MessagePump pump) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (pump.messages.isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertTrue(!pump.messages.isEmpty(), "no message");
        return pump.messages.getFirst();
    }

    @Test
    void removeOnMadviseDontneed() throws Exception {
        try (Region r = Region.map(Backend.ANON, LEN); Userfaultfd u = Userfaultfd.open(EVENTS)) {
            r.fill(0, 1, LEN);
            u.register(r.address(), LEN, UffdAbi.UFFDIO_REGISTER_MODE_MISSING);
            try (MessagePump pump = new MessagePump(u, m -> { })) {
                assertEquals(0, Libc.madvise(r.address() + 4096, 8192, MmanAbi.MADV_DONTNEED));
                UffdMessage.Remove m = assertInstanceOf(UffdMessage.Remove.class, awaitOne(pump));
                assertEquals(r.address() + 4096, m.start());
                assertEquals(r.address() + 3 * 4096, m.end());
            }
        }
    }

    @Test
    void remapOnMremap() throws Exception {
        try (Region target = Region.map(Backend.ANON, LEN); Userfaultfd u = Userfaultfd.open(EVENTS)) {
            long old = Libc.mmap(0, LEN, MmanAbi.PROT_READ | MmanAbi.PROT_WRITE,
                    MmanAbi.MAP_PRIVATE | MmanAbi.MAP_ANONYMOUS, -1, 0);
            assertTrue(old > 0);
            u.register(old, LEN, UffdAbi.UFFDIO_REGISTER_MODE_MISSING);
            try (MessagePump pump = new MessagePump(u, m -> { })) {
                long moved = Libc.mremap(old, LEN, LEN, MmanAbi.MREMAP_MAYMOVE | MmanAbi.MREMAP_FIXED, target.address());
                assertEquals(target.address(), moved);
                // MREMAP_FIXED over a mapping also reports the old range's UNMAP; the REMAP comes first.
                UffdMessage.Remap m = assertInstanceOf(UffdMessage.Remap.class, awaitFirst(pump));
                assertEquals(old, m.from());
                assertEquals(target.address(), m.to());
                assertEquals(LEN, m.length());
            }
        }
    }

    @Test
    void unmapOnMunmap() throws Exception {
        try (Userfaultfd u = Userfaultfd.open(EVENTS)) {
            long a = Libc.mmap(0, LEN, MmanAbi.PROT_READ | MmanAbi.PROT_WRITE,
                    MmanAbi.MAP_PRIVATE | MmanAbi.MAP_ANONYMOUS, -1, 0);
            u.register(a, LEN, UffdAbi.UFFDIO_REGISTER_MODE_MISSING);
            try (MessagePump pump = new MessagePump(u, m -> { })) {
                assertEquals(0, Libc.munmap(a, LEN));
                UffdMessage.Unmap m = assertInstanceOf(UffdMessage.Unmap.class, awaitOne(pump));
                assertEquals(a, m.start());
                assertEquals(a + LEN, m.end());
            }
        }
    }

    @Test
    void forkHandsOverTheChildsUffd() throws Exception {
        try (Arena arena = Arena.ofShared(); Region r = Region.map(Backend.ANON, LEN);
             Userfaultfd u = Userfaultfd.open(EVENTS)) {
            u.register(r.address(), LEN, UffdAbi.UFFDIO_REGISTER_MODE_MISSING);
            try (MessagePump pump = new MessagePump(u, m -> {
                if (m instanceof UffdMessage.Fork f) {
                    Libc.close(f.ufd());
                }
            })) {
                int pid = Libc.fork();
                if (pid == 0) {
                    Libc.exit(0); // the child: nothing but an already-linked downcall
                }
                assertTrue(pid > 0, "fork: " + pid);
                UffdMessage.Fork m = assertInstanceOf(UffdMessage.Fork.class, awaitOne(pump));
                assertTrue(m.ufd() > 2, "a fresh fd for the child's uffd: " + m.ufd());
                // The child is a copy of one JVM thread with no VM behind it: if a safepoint or a lock
                // was pending at the fork it never returns from the downcall, so reap it either way.
                Libc.kill(pid, MmanAbi.SIGKILL);
                MemorySegment status = arena.allocate(JAVA_INT);
                assertEquals(pid, Libc.waitpid(pid, status.address(), 0), "the child is reaped");
            }
        }
    }
}
