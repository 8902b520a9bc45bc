package dev.faultline.collector.handler;

import dev.faultline.core.abi.Libc;
import dev.faultline.core.region.Backend;
import dev.faultline.core.region.Region;
import dev.faultline.core.uffd.ResolveIoctl;
import dev.faultline.core.uffd.Userfaultfd;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** A spinning handler owns its CPU and faulting threads keep off it; read back from the kernel's own view. */
class SpinCpusTest {

    static long allowedOf(int tid) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/task/" + tid + "/status"))) {
            if (line.startsWith("Cpus_allowed:")) {
                return Long.parseUnsignedLong(line.substring(line.indexOf(':') + 1).strip().replace(",", ""), 16);
            }
        }
        throw new AssertionError("no Cpus_allowed for " + tid);
    }

    static int tidNamed(String comm) throws IOException {
        try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
            for (Path t : tasks.toList()) {
                if (Files.readString(t.resolve("comm")).strip().equals(comm)) {
                    return Integer.parseInt(t.getFileName().toString());
                }
            }
        }
        return -1;
    }

    @Test
    void aSpinningHandlerThreadIsPinnedAndOthersKeepOff() throws Exception {
        long allowed = Libc.getAffinity(0);
        assumeTrue(allowed > 0 && Long.bitCount(allowed) >= 2, "needs at least 2 CPUs to give one to the handler, has mask " + allowed);
        try (PageSource source = PageSource.zeroes(4096); ResolvePolicy policy = ResolvePolicy.of(ResolveIoctl.COPY, source);
             Region region = Region.map(Backend.ANON, 4096)) {
            List<HandledRegion> regions = List.of(new HandledRegion(0, "r", region, policy, null));
            try (UffdHandler h = new UffdHandler(Userfaultfd.open(UffdHandler.features(regions)), regions, 1, WaitStrategy.SPIN, 0)) {
                long highest = Long.highestOneBit(allowed);
                assertEquals(highest, h.cpus().ownedMask(), "the highest allowed CPU");
                assertEquals(allowed & ~highest, h.cpus().othersMask());
                int tid = -1;
                for (int i = 0; i < 100 && tid < 0; i++) {
                    tid = tidNamed("faultline-handl");
                    Thread.sleep(10);
                }
                Thread.sleep(50); // the thread pins itself first thing
                assertEquals(highest, allowedOf(tid), "the handler thread runs only there");

                AtomicLong seen = new AtomicLong();
                Thread other = Thread.ofPlatform().start(() -> {
                    h.cpus().keepOff();
                    seen.set(Libc.getAffinity(0));
                });
                other.join();
                assertEquals(allowed & ~highest, seen.get(), "a faulting thread keeps off it");
            }
        }
        assertEquals(0, SpinCpus.none().othersMask(), "a poll handler pins nothing");
        assertTrue(SpinCpus.forSpinning(64).ownedMask() == 0, "no pinning when it would leave no CPU free");
    }
}
