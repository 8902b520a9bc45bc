package dev.faultline.cli;

import dev.faultline.analysis.Report;
import dev.faultline.core.trace.OutputFile;
import dev.faultline.guest.KernelCache;
import dev.faultline.replay.plan.PlanFile;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * The JDK's ahead-of-time cache ({@code -XX:AOTCache}, JDK 25 and later) of this faultline build,
 * made once on this machine by a training replay and handed to every JVM a guest starts.
 *
 * <p>Under TCG a guest's JVM spends most of a command loading, linking and profiling classes, every
 * instruction emulated: without the cache a replay's JVM took 40-49 s in a 1-vCPU guest here, with it
 * 24-33 s (docs/kernels.md). The cache holds classes already loaded and linked and the training
 * run's method profiles, no compiled code, so it does not depend on the guest's CPU model; the JVM
 * checks it against its own JDK and class path and runs without it, as before, where they differ.
 *
 * <p>Invariants: the file's name is a digest of the JDK (its home and version) and of every class
 * path file's path, size and modification time, so a rebuild or another JDK gets a cache of its
 * own; it is written under a temporary name and moved into place, so no JVM ever maps a half-made
 * cache. A training run that fails costs one line on stderr, and the guests start without a cache.
 */
final class JvmStartupCache {
    /** The first JDK whose {@code -XX:AOTCacheOutput} makes a cache in one training run (JEP 514). */
    static final int FIRST_FEATURE = 25;
    private static final long TRAINING_SECONDS = 300;
    /** Caches kept in {@link #dir}: this build's and those of a few others (another checkout, an earlier build). */
    static final int KEPT = 4;
    private static final Object LOCK = new Object();
    private static Path ready;
    private static boolean tried;

    private JvmStartupCache() {
    }

    /**
     * The cache for this build, made now (saying so on {@code err}) if this machine has none yet;
     * null when this JDK cannot make one or the training run failed. Made at most once per process.
     */
    static Path forGuests(PrintWriter err) {
        synchronized (LOCK) {
            if (!tried) {
                tried = true;
                ready = findOrMake(err);
            }
            return ready;
        }
    }

    /** The directory the caches live in: beside the kernel cache, {@code ~/.cache/faultline/jvm}. */
    static Path dir() {
        return KernelCache.dir().resolveSibling("jvm");
    }

    private static Path findOrMake(PrintWriter err) {
        if (Runtime.version().feature() < FIRST_FEATURE) {
            err.println("guests: this JDK (" + Runtime.version().feature() + ") makes no start-up cache (JDK "
                    + FIRST_FEATURE + " does); their JVMs start without one");
            err.flush();
            return null;
        }
        if (KernelSession.classPath().stream().anyMatch(Files::isDirectory)) {
            err.println("guests: no start-up cache for a class path with directories in it (a development build); their JVMs start without one");
            err.flush();
            return null; // the JVM caches classes from jar files only
        }
        Path cache;
        try {
            cache = dir().resolve("faultline-" + buildDigest() + ".aot");
        } catch (IOException e) {
            return null; // a class path entry that vanished: the guest's JVM will say more than we can
        }
        if (Files.isRegularFile(cache)) {
            return cache;
        }
        err.println("guests: making a start-up cache for their JVMs (once per build of faultline) in " + cache.getParent());
        err.flush();
        long start = System.nanoTime();
        Path work = null;
        try {
            Files.createDirectories(cache.getParent());
            work = Files.createTempDirectory(cache.getParent(), ".training-");
            String why = train(work, cache);
            if (why != null) {
                err.println("guests: no start-up cache (" + why + "); their JVMs start without one");
                return null;
            }
            err.printf(Locale.ROOT, "guests: start-up cache made in %s%n", Units.nanos(System.nanoTime() - start));
            prune(cache);
            return cache;
        } catch (IOException e) {
            err.println("guests: no start-up cache (" + e.getMessage() + "); their JVMs start without one");
            return null;
        } finally {
            err.flush();
            if (work != null) {
                try {
                    Report.deleteTree(work);
                } catch (IOException e) {
                    // a leftover training directory under the cache is harmless
                }
            }
        }
    }

    /**
     * zstd-jni's native library of this build, unpacked into {@link #dir} once, for guests' JVMs to
     * load with {@code -DZstdNativePath}; null when the class path holds none for this machine or it
     * cannot be written. Left to itself, zstd-jni unpacks the library into a temporary file at every
     * start, which in a guest is on the 9p scratch directory: 1.1 s of a TCG guest's replay, against
     * 0.15 s to load it from here.
     */
    static Path zstdLibrary() {
        String version = com.github.luben.zstd.util.ZstdVersion.VERSION;
        String name = "libzstd-jni-" + version + ".so";
        Path lib = dir().resolve(name);
        if (Files.isRegularFile(lib)) {
            return lib;
        }
        try (InputStream in = com.github.luben.zstd.util.ZstdVersion.class.getResourceAsStream(
                "/linux/" + System.getProperty("os.arch") + "/" + name)) {
            if (in == null) {
                return null;
            }
            Files.createDirectories(lib.getParent());
            Path partial = Files.createTempFile(lib.getParent(), "." + name + ".", ".partial"); // one per faultline at once
            try {
                Files.copy(in, partial, StandardCopyOption.REPLACE_EXISTING);
                OutputFile.moveIntoPlace(partial, lib);
            } finally {
                Files.deleteIfExists(partial);
            }
            return lib;
        } catch (IOException e) {
            return null; // zstd-jni then unpacks it itself, as on the host
        }
    }

    /**
     * Removes all but the {@link #KEPT} newest caches beside {@code made} (each is some 30 MB, and
     * every rebuild makes one); a JVM that has one mapped keeps it until it exits.
     */
    private static void prune(Path made) {
        try (var files = Files.list(made.getParent())) {
            List<Path> caches = files.filter(p -> p.getFileName().toString().matches("faultline-[0-9a-f]+\\.aot")).sorted(
                    Comparator.comparing((Path p) -> {
                        try {
                            return Files.getLastModifiedTime(p);
                        } catch (IOException e) {
                            return FileTime.fromMillis(0);
                        }
                    }).reversed()).toList();
            for (Path old : caches.subList(Math.min(KEPT, caches.size()), caches.size())) {
                if (!old.equals(made)) {
                    Files.deleteIfExists(old);
                }
            }
        } catch (IOException e) {
            // an old cache that cannot be removed costs disk, not this command
        }
    }

    /**
     * Records a small trace, then replays it in a JVM that writes the cache at its exit, and moves
     * the cache into place; the reason it could not, or null.
     */
    private static String train(Path work, Path cache) throws IOException {
        Path trace = work.resolve("training.arrow");
        String why = run(work, Faultline.class, List.of(), List.of("record", "--workload", "sequential", "--pages", "2000", "-o", trace.toString()), "record");
        if (why != null) {
            return why;
        }
        Path made = work.resolve("training.aot");
        // the replay as guests run it: through GuestReplay and a plan as the host hands them one, so the cache holds
        // what their JVMs load
        Path plan = work.resolve("training.plan");
        try {
            PlanFile.write(ReplayCommand.fromGuestArgs(List.of("trace=" + trace, "warmup=0")).plan(), plan);
        } catch (IOException | RuntimeException e) {
            return "cannot plan the training replay: " + e.getMessage();
        }
        why = run(work, GuestReplay.class, List.of("-XX:AOTCacheOutput=" + made), List.of("trace=" + trace, "plan=" + plan,
                "output=" + work.resolve("training.replay.arrow"), "runs=1", "warmup=0"), "replay");
        if (why != null) {
            return why;
        }
        if (!Files.isRegularFile(made) || Files.size(made) == 0) {
            // the JVM's dump runs in a child of the training JVM, whose exit status is 0 all the same: a JDK 25 dump
            // that crashed left an empty file, which every guest then failed to map
            String aot = lastLine(work.resolve("replay.log"), l -> l.contains("[aot]"));
            return "the training replay wrote no cache" + (aot == null ? "" : ": " + aot);
        }
        OutputFile.moveIntoPlace(made, cache);
        return null;
    }

    /** Runs this faultline's {@code main} with {@code jvmFlags} and {@code args} in {@code work}; why it failed, or null. */
    private static String run(Path work, Class<?> main, List<String> jvmFlags, List<String> args, String what) throws IOException {
        List<String> cmd = KernelSession.javaCommand(main, args, null, jvmFlags);
        Path log = work.resolve(what + ".log");
        Process p = new ProcessBuilder(cmd).directory(work.toFile()).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            if (!p.waitFor(TRAINING_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return "the training " + what + " took over " + TRAINING_SECONDS + " s";
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            return "interrupted";
        }
        if (p.exitValue() == 0) {
            return null;
        }
        String last = lastLine(log, l -> !l.isEmpty());
        return "the training " + what + " failed: " + (last == null ? "exit status " + p.exitValue() : last);
    }

    /** The last line of {@code log}, stripped, that {@code which} takes; null if none does. */
    private static String lastLine(Path log, Predicate<String> which) throws IOException {
        List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8).stream().map(String::strip).filter(which).toList();
        return lines.isEmpty() ? null : lines.getLast();
    }

    /** A digest of the JDK and of the class path's files, as the JVM itself checks them. */
    private static String buildDigest() throws IOException {
        MessageDigest md;
        try {
            md = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
        StringBuilder key = new StringBuilder(System.getProperty("java.home")).append('\n').append(Runtime.version()).append('\n');
        for (Path p : KernelSession.classPath()) {
            key.append(p).append(' ').append(Files.size(p)).append(' ').append(Files.getLastModifiedTime(p).toMillis()).append('\n');
        }
        return HexFormat.of().formatHex(md.digest(key.toString().getBytes(StandardCharsets.UTF_8)), 0, 8);
    }
}
