package dev.faultline.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.faultline.collector.passive.QmpClient;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A QEMU postcopy live migration on loopback, for tests: a source and a destination
 * qemu-system-x86_64 (TCG: no KVM needed) running a guest of a few dozen instructions that writes
 * every page of its RAM over and over, so every page is dirty when postcopy starts; QMP sets
 * {@code postcopy-ram}, {@code postcopy-blocktime} (and {@code postcopy-preempt} if asked) and
 * starts postcopy once precopy is under way.
 *
 * <p>The destination has a second QMP socket, {@link #faultlineQmp()}, for the capture's own use (a
 * QMP socket serves one client at a time). Lifecycle: {@link #start}, capture the destination
 * ({@link #destinationPid()}), {@link #migrate}, {@link #close} (quits both).
 */
final class PostcopyMigration implements AutoCloseable {
    /** How the guest's RAM is backed, as QEMU offers it. */
    enum Ram {
        /** {@code -m}: private anonymous memory. */
        ANON(4096),
        /** {@code memory-backend-memfd,share=on}: shmem. */
        MEMFD(4096),
        /** {@code memory-backend-memfd,hugetlb=on,hugetlbsize=2M}: 2 MiB hugetlb pages. */
        HUGETLB2M(2 << 20);

        final long pageSize;

        Ram(long pageSize) {
            this.pageSize = pageSize;
        }
    }

    /** What both sides reported when the migration was over. */
    record Outcome(JsonNode source, JsonNode destination, long wallNanos) {
        long postcopyRequests() {
            return source.path("ram").path("postcopy-requests").asLong();
        }

        /** QEMU's own postcopy-blocktime, in ms (all vCPUs blocked at once). */
        long blocktimeMillis() {
            return destination.path("postcopy-blocktime").asLong(-1);
        }

        /** QEMU's own postcopy-vcpu-blocktime, ms per vCPU. */
        List<Long> vcpuBlocktimeMillis() {
            List<Long> out = new ArrayList<>();
            destination.path("postcopy-vcpu-blocktime").forEach(n -> out.add(n.asLong()));
            return out;
        }

        long totalTimeMillis() {
            return source.path("total-time").asLong();
        }
    }

    private final Path dir;
    private final Ram ram;
    private final int megabytes;
    private final int cpus;
    private final boolean preempt;
    private final int port;
    private Process source;
    private Process destination;
    private QmpClient sourceQmp;
    private QmpClient destinationQmp;
    private boolean quit;

    private PostcopyMigration(Path dir, Ram ram, int megabytes, int cpus, boolean preempt) throws IOException {
        this.dir = dir;
        this.ram = ram;
        this.megabytes = megabytes;
        this.cpus = cpus;
        this.preempt = preempt;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
    }

    static Path qemu() {
        return Path.of("/usr/bin/qemu-system-x86_64");
    }

    /** Starts both sides: the destination waiting on {@code -incoming}, the source running the guest. */
    static PostcopyMigration start(Path dir, Ram ram, int megabytes, int cpus, boolean preempt) throws Exception {
        PostcopyMigration m = new PostcopyMigration(dir, ram, megabytes, cpus, preempt);
        m.launch();
        return m;
    }

    private void launch() throws Exception {
        Path disk = dir.resolve("guest.img");
        Files.write(disk, bootImage(megabytes));
        List<String> dst = new ArrayList<>(common(disk));
        dst.addAll(List.of("-msg", "timestamp=on", "-trace", "mark_postcopy_blocktime_*,file=" + blocktimeTrace(),
                "-qmp", "unix:" + dir.resolve("dst.qmp") + ",server=on,wait=off",
                "-qmp", "unix:" + faultlineQmp() + ",server=on,wait=off",
                "-incoming", "tcp:127.0.0.1:" + port));
        destination = new ProcessBuilder(dst).redirectErrorStream(true).redirectOutput(dir.resolve("dst.log").toFile()).start();
        List<String> src = new ArrayList<>(common(disk));
        src.addAll(List.of("-qmp", "unix:" + dir.resolve("src.qmp") + ",server=on,wait=off"));
        source = new ProcessBuilder(src).redirectErrorStream(true).redirectOutput(dir.resolve("src.log").toFile()).start();
        destinationQmp = connect(dir.resolve("dst.qmp"), destination);
        sourceQmp = connect(dir.resolve("src.qmp"), source);
        List<Map<String, Object>> caps = new ArrayList<>();
        caps.add(Map.of("capability", "postcopy-ram", "state", true));
        if (preempt) {
            caps.add(Map.of("capability", "postcopy-preempt", "state", true));
        }
        sourceQmp.execute("migrate-set-capabilities", Map.of("capabilities", caps));
        // precopy must not converge: a small guest would otherwise be moved whole inside the default 300 ms downtime
        sourceQmp.execute("migrate-set-parameters", Map.of("downtime-limit", 1));
        List<Map<String, Object>> dstCaps = new ArrayList<>(caps);
        dstCaps.add(Map.of("capability", "postcopy-blocktime", "state", true));
        destinationQmp.execute("migrate-set-capabilities", Map.of("capabilities", dstCaps));
    }

    private List<String> common(Path disk) {
        List<String> a = new ArrayList<>(List.of(qemu().toString(), "-machine", "pc,accel=tcg", "-m", megabytes + "M",
                "-smp", Integer.toString(cpus), "-nodefaults", "-display", "none", "-no-user-config",
                "-drive", "file=" + disk + ",format=raw,if=ide,file.locking=off"));
        switch (ram) {
            case ANON -> { }
            case MEMFD -> a.addAll(List.of("-object", "memory-backend-memfd,id=ram0,size=" + megabytes + "M,share=on",
                    "-machine", "memory-backend=ram0"));
            case HUGETLB2M -> a.addAll(List.of("-object", "memory-backend-memfd,id=ram0,size=" + megabytes
                    + "M,share=on,hugetlb=on,hugetlbsize=2M", "-machine", "memory-backend=ram0"));
        }
        return a;
    }

    private QmpClient connect(Path socket, Process p) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (true) {
            if (!p.isAlive()) {
                throw new IllegalStateException("QEMU exited before its QMP socket " + socket + " came up: " + logs());
            }
            if (Files.exists(socket)) {
                try {
                    return QmpClient.connect(socket, 20_000);
                } catch (IOException e) {
                    if (System.nanoTime() > deadline) {
                        throw e;
                    }
                }
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("no QMP socket " + socket + " after 20 s: " + logs());
            }
            Thread.sleep(20);
        }
    }

    /** The destination QEMU's pid: the process to capture. */
    long destinationPid() {
        return destination.pid();
    }

    /** The destination's QMP socket kept for the capture. */
    Path faultlineQmp() {
        return dir.resolve("dst-faultline.qmp");
    }

    /**
     * QEMU's own trace of its blocktime bookkeeping on the destination (trace events
     * mark_postcopy_blocktime_begin/end): which faults it counted.
     */
    Path blocktimeTrace() {
        return dir.resolve("dst-blocktime.log");
    }

    /** The destination process (to wait for its exit). */
    Process destination() {
        return destination;
    }

    /**
     * Migrates: precopy for {@code precopyMillis}, then postcopy, until both sides say completed.
     *
     * @throws IllegalStateException if the migration fails or takes over 120 s
     */
    Outcome migrate(long precopyMillis) throws Exception {
        long t0 = System.nanoTime();
        sourceQmp.execute("migrate", Map.of("uri", "tcp:127.0.0.1:" + port));
        Thread.sleep(precopyMillis);
        sourceQmp.execute("migrate-start-postcopy", Map.of());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        JsonNode src;
        while (true) {
            src = sourceQmp.execute("query-migrate", Map.of());
            String status = src.path("status").asText();
            if (status.equals("completed")) {
                break;
            }
            if (status.equals("failed") || System.nanoTime() > deadline) {
                throw new IllegalStateException("migration " + status + ": " + src + " " + logs());
            }
            Thread.sleep(20);
        }
        JsonNode dst;
        while (true) {
            dst = destinationQmp.execute("query-migrate", Map.of());
            if (dst.path("status").asText().equals("completed")) {
                break;
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the destination never said completed: " + dst + " " + logs());
            }
            Thread.sleep(20);
        }
        return new Outcome(src, dst, System.nanoTime() - t0);
    }

    /** Quits both sides and waits for them (a capture of the destination then ends); again is a no-op. */
    public void quit() throws IOException, InterruptedException {
        if (quit) {
            return;
        }
        quit = true;
        for (QmpClient q : new QmpClient[] {sourceQmp, destinationQmp}) {
            if (q != null) {
                try {
                    q.execute("quit", Map.of());
                } catch (IOException gone) {
                    // quit closes the connection under the answer
                }
                q.close();
            }
        }
        for (Process p : new Process[] {source, destination}) {
            if (p != null && !p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                p.waitFor(5, TimeUnit.SECONDS);
            }
        }
    }

    @Override
    public void close() throws IOException {
        try {
            quit();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            for (Process p : new Process[] {source, destination}) {
                if (p != null) {
                    p.destroyForcibly();
                }
            }
        }
    }

    private String logs() throws IOException {
        StringBuilder b = new StringBuilder();
        for (String f : List.of("src.log", "dst.log")) {
            Path p = dir.resolve(f);
            if (Files.exists(p)) {
                b.append(f).append(": ").append(Files.readString(p).strip()).append(' ');
            }
        }
        return b.toString();
    }

    /**
     * The guest: a boot sector that enters 32-bit protected mode with flat segments and then
     * increments one word in every 4 KiB page from 1 MiB to the top of RAM, forever, so that every
     * page is written again between two precopy passes. Assembled from (GNU as, .code16/.code32):
     * <pre>
     *   cli; xor %ax,%ax; mov %ax,%ds; lgdtl gdtr; mov %cr0,%eax; or $1,%al; mov %eax,%cr0
     *   ljmpl $0x08,$pm
     * pm: mov $0x10,%ax; mov %ax,%ds; mov %ax,%es; mov %ax,%ss
     * outer: mov $0x100000,%edi
     * inner: incl (%edi); add $4096,%edi; cmp $TOP,%edi; jb inner; jmp outer
     *   gdt: null, code 0x00cf9a000000ffff, data 0x00cf92000000ffff; gdtr: 23, gdt
     * </pre>
     * TOP (the immediate at offset 0x34) is the top of RAM; the image is padded to 1 MiB.
     */
    static byte[] bootImage(int megabytes) {
        int[] code = {
            0xfa, 0x31, 0xc0, 0x8e, 0xd8, 0x66, 0x0f, 0x01, 0x16, 0x58, 0x7c, 0x0f, 0x20, 0xc0, 0x0c, 0x01,
            0x0f, 0x22, 0xc0, 0x66, 0xea, 0x1b, 0x7c, 0x00, 0x00, 0x08, 0x00, 0x66, 0xb8, 0x10, 0x00, 0x8e,
            0xd8, 0x8e, 0xc0, 0x8e, 0xd0, 0xbf, 0x00, 0x00, 0x10, 0x00, 0xff, 0x07, 0x81, 0xc7, 0x00, 0x10,
            0x00, 0x00, 0x81, 0xff, 0x00, 0x00, 0x00, 0x10, 0x72, 0xf0, 0xeb, 0xe9, 0x8d, 0x74, 0x26, 0x00,
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0x00, 0x00, 0x00, 0x9a, 0xcf, 0x00,
            0xff, 0xff, 0x00, 0x00, 0x00, 0x92, 0xcf, 0x00, 0x17, 0x00, 0x40, 0x7c, 0x00, 0x00};
        byte[] image = new byte[1 << 20];
        for (int i = 0; i < code.length; i++) {
            image[i] = (byte) code[i];
        }
        int top = megabytes << 20;
        for (int i = 0; i < 4; i++) {
            image[0x34 + i] = (byte) (top >>> (8 * i));
        }
        image[510] = 0x55;
        image[511] = (byte) 0xaa;
        return image;
    }
}
