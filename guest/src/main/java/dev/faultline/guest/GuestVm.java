package dev.faultline.guest;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * One booted guest: {@code kernel} in QEMU, seeing the host's root filesystem read-only over 9p and
 * a scratch directory of the host writable at {@link Initramfs#SCRATCH_IN_GUEST}, waiting for shell
 * commands to run there one after another.
 *
 * <p>The host hands a command over as {@code cmd-N.sh} in the scratch directory; the guest runs it
 * with its stdout and stderr in {@code out-N.txt} and {@code err-N.txt} and writes its exit status
 * to {@code rc-N} last, so a file the host finds there is complete. The guest's console (its
 * serial port) goes to {@code console.log} beside the scratch directory; a guest that does not boot
 * or does not finish a command within its timeout is killed, and the error carries the console's
 * last lines.
 *
 * <p>Invariant: after {@link #close} no QEMU process of this guest is left.
 */
public final class GuestVm implements AutoCloseable {
    /** The console line the guest prints when it is ready for commands. */
    public static final String READY = "FL-READY:";
    private static final int CONSOLE_TAIL = 15;

    private final KernelImage kernel;
    private final BootImage bootImage;
    private final GuestConfig config;
    private final Path dir;
    private final Path scratch;
    private final Path console;
    private final Process qemu;
    private final long startNanos;
    private long readyNanos;
    private double readyUptime;
    private int next = 1;

    private GuestVm(KernelImage kernel, BootImage bootImage, GuestConfig config, Path dir, Process qemu, long startNanos) {
        this.kernel = kernel;
        this.bootImage = bootImage;
        this.config = config;
        this.dir = dir;
        this.scratch = dir.resolve("scratch");
        this.console = dir.resolve("console.log");
        this.qemu = qemu;
        this.startNanos = startNanos;
    }

    /**
     * Boots {@code kernel} with its work files (initramfs, console log, scratch directory) under
     * {@code dir}, and waits until it is ready for commands.
     *
     * @throws GuestException one line, with the console's last lines, when it cannot
     */
    public static GuestVm boot(KernelImage kernel, GuestConfig config, Path dir) throws GuestException {
        Path busybox = Busybox.locate(kernel);
        Path qemuBinary = qemuBinary();
        Path scratch = dir.resolve("scratch");
        Path initrd = dir.resolve("initramfs.cpio");
        try {
            Files.createDirectories(scratch.resolve("tmp"));
            Files.writeString(scratch.resolve("guest.sh"), guestScript());
        } catch (IOException e) {
            throw new GuestException("cannot prepare the guest's directory " + dir + " (" + e.getMessage() + ")");
        }
        Initramfs.write(kernel, busybox, config.hugePages2m(), initrd);
        BootImage boot = BootImage.of(kernel);
        List<String> cmd = new ArrayList<>();
        if (config.pinCpus() != null) {
            cmd.addAll(List.of("taskset", "-c", config.pinCpus()));
        }
        cmd.addAll(List.of(qemuBinary.toString(),
                "-machine", "pc,accel=" + config.accel().label(),
                "-cpu", config.accel() == Accel.KVM ? "host" : "max",
                "-m", Integer.toString(config.memoryMiB()), "-smp", Integer.toString(config.cpus()),
                "-kernel", boot.path().toString(), "-initrd", initrd.toString(),
                // cryptomgr.notests: the crypto self-tests took 0.3 s of a 2 s boot under TCG, and no guest uses that crypto
                "-append", "console=ttyS0 panic=-1 quiet loglevel=4 nokaslr cryptomgr.notests",
                "-fsdev", "local,id=" + Initramfs.ROOT_TAG + ",path=/,security_model=none,readonly=on,multidevs=remap",
                "-device", "virtio-9p-pci,fsdev=" + Initramfs.ROOT_TAG + ",mount_tag=" + Initramfs.ROOT_TAG,
                "-fsdev", "local,id=" + Initramfs.SCRATCH_TAG + ",path=" + scratch.toAbsolutePath() + ",security_model=none",
                "-device", "virtio-9p-pci,fsdev=" + Initramfs.SCRATCH_TAG + ",mount_tag=" + Initramfs.SCRATCH_TAG,
                "-nographic", "-no-reboot", "-nodefaults", "-serial", "stdio", "-monitor", "none"));
        Path consoleLog = dir.resolve("console.log");
        long start = System.nanoTime();
        Process p;
        try {
            p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(consoleLog.toFile())
                    .redirectInput(ProcessBuilder.Redirect.PIPE).start();
        } catch (IOException e) {
            throw new GuestException("cannot start " + cmd.getFirst() + " (" + e.getMessage() + ")");
        }
        GuestVm vm = new GuestVm(kernel, boot, config, dir, p, start);
        try {
            vm.awaitReady();
            return vm;
        } catch (GuestException e) {
            vm.kill();
            throw e;
        }
    }

    private static Path qemuBinary() throws GuestException {
        for (String d : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
            Path q = Path.of(d.isEmpty() ? "." : d, "qemu-system-x86_64");
            if (Files.isExecutable(q)) {
                return q;
            }
        }
        throw new GuestException("no qemu-system-x86_64 on PATH to boot other kernels in: apt-get install qemu-system-x86");
    }

    private void awaitReady() throws GuestException {
        long deadline = startNanos + config.bootTimeout().toNanos();
        while (true) {
            String text = consoleText();
            int at = text.indexOf(READY);
            if (at >= 0) {
                readyNanos = System.nanoTime();
                String rest = text.substring(at + READY.length()).strip().split("\\s", 2)[0];
                try {
                    readyUptime = Double.parseDouble(rest);
                } catch (NumberFormatException e) {
                    readyUptime = Double.NaN;
                }
                return;
            }
            int fail = text.indexOf("FL-FAIL:");
            if (fail >= 0) {
                String why = text.substring(fail + "FL-FAIL:".length()).lines().findFirst().orElse("").strip();
                throw failure("did not boot: " + why);
            }
            if (!qemu.isAlive()) {
                throw failure("did not boot: QEMU exited with status " + qemu.exitValue()
                        + (text.contains("Kernel panic") ? " after a kernel panic" : ""));
            }
            if (System.nanoTime() > deadline) {
                throw failure("did not boot within " + seconds(config.bootTimeout()) + "; killed it");
            }
            sleep(50);
        }
    }

    /** What a command printed and how it ended. */
    public record Result(int exit, String out, String err) {
    }

    /**
     * Runs {@code shell} (one {@code sh} command line) in the guest's scratch directory and waits
     * for its end, handing each new last line of its stderr to {@code progress}.
     *
     * @throws GuestException when the guest dies or the command outlives {@link GuestConfig#runTimeout}
     *                        (the guest is then killed)
     */
    public Result run(String shell, Consumer<String> progress) throws GuestException {
        int n = next++;
        Path cmd = scratch.resolve("cmd-" + n + ".sh");
        Path rc = scratch.resolve("rc-" + n);
        Path err = scratch.resolve("err-" + n + ".txt");
        try {
            Path tmp = scratch.resolve("cmd-" + n + ".tmp");
            Files.writeString(tmp, shell + "\n");
            Files.move(tmp, cmd, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new GuestException("cannot hand the command to the guest (" + e.getMessage() + ")");
        }
        long deadline = System.nanoTime() + config.runTimeout().toNanos();
        String lastLine = "";
        while (!Files.exists(rc)) {
            if (!qemu.isAlive()) {
                throw failure("died during a command (QEMU exited with status " + qemu.exitValue() + ")");
            }
            if (System.nanoTime() > deadline) {
                kill();
                throw failure("did not finish a command within " + seconds(config.runTimeout()) + "; killed it");
            }
            String line = lastLine(err);
            if (progress != null && !line.isEmpty() && !line.equals(lastLine)) {
                progress.accept(line);
                lastLine = line;
            }
            sleep(50);
        }
        try {
            int exit = Integer.parseInt(Files.readString(rc).strip());
            return new Result(exit, read(scratch.resolve("out-" + n + ".txt")), read(err));
        } catch (IOException | NumberFormatException e) {
            throw new GuestException("cannot read the result of a command in the guest (" + e.getMessage() + ")");
        }
    }

    private static String read(Path p) throws IOException {
        return Files.exists(p) ? Files.readString(p, StandardCharsets.UTF_8) : "";
    }

    /** The last non-empty line of a file being written ({@code \r}-separated progress counts as lines), or "". */
    public static String lastLine(Path p) {
        try {
            if (!Files.exists(p)) {
                return "";
            }
            String s = Files.readString(p, StandardCharsets.UTF_8);
            int end = s.length();
            while (end > 0 && (s.charAt(end - 1) == '\n' || s.charAt(end - 1) == '\r')) {
                end--;
            }
            int start = Math.max(s.lastIndexOf('\n', end - 1), s.lastIndexOf('\r', end - 1)) + 1;
            return s.substring(start, end).strip();
        } catch (IOException | RuntimeException e) {
            return "";
        }
    }

    /** The kernel this guest runs. */
    public KernelImage kernel() {
        return kernel;
    }

    /** The file QEMU booted: the kernel's ELF through PVH, or its bzImage. */
    public BootImage bootImage() {
        return bootImage;
    }

    /** Its size and accelerator. */
    public GuestConfig config() {
        return config;
    }

    /** The host directory the guest sees at {@link Initramfs#SCRATCH_IN_GUEST}. */
    public Path scratch() {
        return scratch;
    }

    /** {@code name} in the scratch directory as the guest sees it. */
    public String inGuest(String name) {
        return Initramfs.SCRATCH_IN_GUEST + "/" + name;
    }

    /** Nanoseconds from starting QEMU to the guest's ready line. */
    public long bootNanos() {
        return readyNanos - startNanos;
    }

    /**
     * The host's {@code System.nanoTime()} at which the guest's CLOCK_MONOTONIC read
     * {@code guestNanos}, from the uptime the guest printed when it was ready (to the console's
     * hundredths of a second, and a little early by the console's latency).
     */
    public long hostNanosAt(long guestNanos) {
        return readyNanos + guestNanos - (long) (readyUptime * 1e9);
    }

    /** The console's last lines, control characters removed. */
    public List<String> consoleTail() {
        List<String> lines = consoleText().lines().map(l -> l.replaceAll("\\p{Cntrl}", "").stripTrailing())
                .filter(l -> !l.isBlank()).toList();
        return lines.subList(Math.max(0, lines.size() - CONSOLE_TAIL), lines.size());
    }

    private String consoleText() {
        try {
            return Files.exists(console) ? Files.readString(console, StandardCharsets.ISO_8859_1) : "";
        } catch (IOException e) {
            return "";
        }
    }

    private GuestException failure(String what) {
        return new GuestException("guest of kernel " + kernel.release() + " " + what + " (console: " + console + ")", consoleTail());
    }

    /** Asks the guest to power off, and kills it when it has not within 20 s. */
    @Override
    public void close() {
        if (qemu.isAlive()) {
            try {
                Files.writeString(scratch.resolve("quit"), "");
                if (!qemu.waitFor(20, TimeUnit.SECONDS)) {
                    kill();
                }
            } catch (IOException e) {
                kill();
            } catch (InterruptedException e) {
                kill();
                Thread.currentThread().interrupt();
            }
        }
    }

    private void kill() {
        qemu.destroyForcibly();
        try {
            qemu.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void sleep(long millis) throws GuestException {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new GuestException("interrupted while waiting for the guest");
        }
    }

    private static String seconds(Duration d) {
        return String.format(Locale.ROOT, "%d s", d.toSeconds());
    }

    /** The loop the guest runs in the chroot: one command file after another, until {@code quit}. */
    static String guestScript() {
        String s = Initramfs.SCRATCH_IN_GUEST;
        return "cd " + s + "\n"
                + "export TMPDIR=" + s + "/tmp HOME=" + s + " PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n"
                + "echo \"" + READY + " $(cut -d' ' -f1 /proc/uptime) s uptime, kernel $(uname -r)\"\n"
                + "i=1\n"
                + "while :; do\n"
                + "  if [ -e cmd-$i.sh ]; then\n"
                + "    sh cmd-$i.sh > out-$i.txt 2> err-$i.txt; echo $? > rc-$i.tmp; mv rc-$i.tmp rc-$i; i=$((i+1))\n"
                + "  elif [ -e quit ]; then exit 0\n"
                + "  else sleep 0.2; fi\n"
                + "done\n";
    }
}
