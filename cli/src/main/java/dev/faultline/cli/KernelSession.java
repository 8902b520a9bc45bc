package dev.faultline.cli;

import dev.faultline.guest.Accel;
import dev.faultline.guest.GuestConfig;
import dev.faultline.guest.GuestException;
import dev.faultline.guest.GuestVm;

import dev.faultline.analysis.Report;

import java.io.IOException;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Where a cross-kernel command runs this same faultline again: in a booted guest, or as a process
 * on this machine for {@code --kernel host}, so that both pay the same start-up. Each session has
 * a scratch directory on this machine where the command's output files appear.
 */
abstract sealed class KernelSession implements AutoCloseable {
    final KernelTarget target;
    final Path scratch;

    private KernelSession(KernelTarget target, Path scratch) {
        this.target = target;
        this.scratch = scratch;
    }

    /**
     * Boots the guest of {@code target} under {@code dir}, or prepares the host's scratch directory,
     * saying on {@code err} which it does and how long the boot took.
     */
    static KernelSession open(KernelTarget target, GuestConfig config, Path dir, PrintWriter err) throws GuestException {
        if (target.isHost()) {
            err.println(target.label() + ": runs on this machine");
            err.flush();
            try {
                return new Host(target, Files.createDirectories(dir.resolve("scratch")));
            } catch (IOException e) {
                throw new GuestException("cannot create " + dir + " (" + e.getMessage() + ")");
            }
        }
        List<String> jvmFlags = new ArrayList<>();
        Path startupCache = JvmStartupCache.forGuests(err); // made before the first boot, whose time it is not
        err.println(target.label() + ": booting " + target.image().image() + " in a guest (" + config.describe() + ")");
        err.flush();
        if (startupCache != null) {
            jvmFlags.add("-XX:AOTCache=" + startupCache);
        }
        Path zstd = JvmStartupCache.zstdLibrary();
        if (zstd != null) {
            jvmFlags.add("-DZstdNativePath=" + zstd);
        }
        if (config.accel() == Accel.TCG) {
            // emulated, the JIT's C2 compiles compete with the command for the one vCPU, and TCG timings are
            // for function only: C1 code starts a replay a quarter sooner (docs/kernels.md)
            jvmFlags.add("-XX:TieredStopAtLevel=1");
        }
        GuestVm vm = GuestVm.boot(target.image(), config, dir);
        err.println(target.label() + ": booted in " + Units.nanos(vm.bootNanos()) + (vm.bootImage().pvh() ? " (its ELF kernel, entered through PVH)"
                : " (its bzImage: " + vm.bootImage().why() + "; an ELF kernel through PVH boots faster)"));
        err.flush();
        return new Guest(target, vm, jvmFlags);
    }

    /** Prints {@code e} as {@code command}'s one line, with the guest's console's last lines under it. */
    static void report(String command, GuestException e, PrintWriter err) {
        err.println("faultline " + command + ": " + e.getMessage());
        for (String line : e.console()) {
            err.println("  | " + line);
        }
        err.flush();
    }

    /** {@code name} in the scratch directory as the command sees it. */
    abstract String path(String name);

    /** Runs {@code faultline ARGS} there and waits for it, handing its stderr's new last lines to {@code progress}. */
    GuestVm.Result faultline(List<String> args, Consumer<String> progress) throws GuestException {
        return java(Faultline.class, args, progress);
    }

    /**
     * Runs one replay run there, {@code args} from {@link ReplayCommand#guestArgs}, through {@link GuestReplay}:
     * the same replay as {@code faultline replay}, without picocli's start.
     */
    GuestVm.Result replay(List<String> args, Consumer<String> progress) throws GuestException {
        return java(GuestReplay.class, args, progress);
    }

    /** Runs {@code main}'s main method with {@code args} in a JVM there and waits for it (see {@link #faultline}). */
    abstract GuestVm.Result java(Class<?> main, List<String> args, Consumer<String> progress) throws GuestException;

    /** "host" or "guest (tcg, 2 vCPUs, 2048 MiB)". */
    abstract String describe();

    @Override
    public abstract void close();

    /**
     * The java command that runs {@code main} (a main class of this faultline) with the same class path and JVM flags;
     * in a guest when {@code tmpdir} is not null, and with {@code jvmFlags} first (a guest's start-up
     * cache, see {@link JvmStartupCache}; a training run's).
     */
    static List<String> javaCommand(Class<?> main, List<String> args, String tmpdir, List<String> jvmFlags) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(jvmFlags);
        List<String> flags = ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
                .filter(a -> a.startsWith("--enable-native-access") || a.startsWith("--add-opens")
                        || a.startsWith("--sun-misc-unsafe-memory-access"))
                .collect(Collectors.toCollection(ArrayList::new));
        for (String needed : List.of("--enable-native-access=ALL-UNNAMED", "--add-opens=java.base/java.nio=ALL-UNNAMED",
                "--sun-misc-unsafe-memory-access=allow")) {
            if (!flags.contains(needed)) {
                flags.add(needed);
            }
        }
        cmd.addAll(flags);
        cmd.add("-Xlog:disable"); // the JVM's own warnings go to stdout by default, where the --json answer is read
        cmd.add("-Xlog:all=warning:stderr");
        if (tmpdir != null) { // a guest's /tmp is the host's, read-only: zstd-jni unpacks its library here instead
            cmd.add("-XX:-UsePerfData");
            cmd.add("-Djava.io.tmpdir=" + tmpdir);
        }
        cmd.add("-cp");
        cmd.add(classPath().stream().map(Path::toString).collect(Collectors.joining(":")));
        cmd.add(main.getName());
        cmd.addAll(args);
        return cmd;
    }

    /** This JVM's class path, each entry made absolute: what javaCommand hands on, and what a start-up cache is made of. */
    static List<Path> classPath() {
        return Stream.of(System.getProperty("java.class.path").split(":")).map(e -> Path.of(e).toAbsolutePath()).toList();
    }

    /** A fresh directory for the guests' work files (initramfs, console logs, scratch). */
    static Path workDir() throws IOException {
        return Files.createTempDirectory("faultline-kernels-");
    }

    /**
     * Ends a cross-kernel command's use of {@code work}: kept, and named on {@code err}, when
     * {@code keep} (a guest failed: its console log is there), else removed.
     */
    static void finish(Path work, boolean keep, String command, PrintWriter err) {
        if (keep) {
            err.println("faultline " + command + ": kept the guests' files (console logs) in " + work);
            err.flush();
            return;
        }
        try {
            Report.deleteTree(work);
        } catch (IOException e) {
            // a leftover temp directory is not worth failing a finished command over
        }
    }

    /** What a failed faultline run said: its last "faultline ...:" line, else its first line. */
    static String why(GuestVm.Result r) {
        List<String> lines = r.err().lines().map(String::strip).filter(l -> !l.isEmpty()).toList();
        for (int i = lines.size() - 1; i >= 0; i--) {
            if (lines.get(i).startsWith("faultline ")) {
                return lines.get(i);
            }
        }
        return lines.isEmpty() ? "exit status " + r.exit() : lines.getFirst();
    }

    static String shellQuote(String s) {
        return s.matches("[A-Za-z0-9_./=:,@%+-]+") ? s : "'" + s.replace("'", "'\\''") + "'";
    }

    /** A guest booted with the target's kernel. */
    static final class Guest extends KernelSession {
        final GuestVm vm;
        private final List<String> jvmFlags;

        Guest(KernelTarget target, GuestVm vm, List<String> jvmFlags) {
            super(target, vm.scratch());
            this.vm = vm;
            this.jvmFlags = List.copyOf(jvmFlags);
        }

        @Override
        String path(String name) {
            return vm.inGuest(name);
        }

        @Override
        GuestVm.Result java(Class<?> main, List<String> args, Consumer<String> progress) throws GuestException {
            return vm.run("exec " + javaCommand(main, args, vm.inGuest("tmp"), jvmFlags).stream().map(KernelSession::shellQuote).collect(Collectors.joining(" ")), progress);
        }

        @Override
        String describe() {
            return "guest (" + vm.config().describe() + ")";
        }

        @Override
        public void close() {
            vm.close();
        }
    }

    /** This machine's own kernel: the command runs as a child process here. */
    static final class Host extends KernelSession {
        private int next = 1;

        Host(KernelTarget target, Path scratch) {
            super(target, scratch);
        }

        @Override
        String path(String name) {
            return scratch.resolve(name).toString();
        }

        @Override
        GuestVm.Result java(Class<?> main, List<String> args, Consumer<String> progress) throws GuestException {
            int n = next++;
            Path out = scratch.resolve("out-" + n + ".txt");
            Path err = scratch.resolve("err-" + n + ".txt");
            try {
                Process p = new ProcessBuilder(javaCommand(main, args, null, List.of())).directory(scratch.toFile())
                        .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
                try {
                    String last = "";
                    while (!p.waitFor(100, TimeUnit.MILLISECONDS)) {
                        String line = GuestVm.lastLine(err);
                        if (progress != null && !line.isEmpty() && !line.equals(last)) {
                            progress.accept(line);
                            last = line;
                        }
                    }
                } catch (InterruptedException e) {
                    p.destroyForcibly();
                    Thread.currentThread().interrupt();
                    throw new GuestException("interrupted while faultline ran on the host");
                }
                return new GuestVm.Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                        Files.readString(err, StandardCharsets.UTF_8));
            } catch (IOException e) {
                throw new GuestException("cannot run faultline on the host (" + e.getMessage() + ")");
            }
        }

        @Override
        String describe() {
            return "host";
        }

        @Override
        public void close() {
        }
    }
}
