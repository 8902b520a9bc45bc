package dev.faultline.cli;

import dev.faultline.core.trace.TraceEvent;
import dev.faultline.core.trace.TraceReader;
import dev.faultline.guest.KernelImage;
import dev.faultline.guest.TestKernels;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code --kernel}: a real Debian 6.1 kernel booted in a QEMU guest over this host's root, probed
 * beside the host's own kernel and replaying a sample trace, as a user runs it.
 */
class KernelCommandTest {
    static Path kernel;
    static String release;

    @BeforeAll
    static void kernel() throws Exception {
        TestKernels.assumeQemu();
        kernel = TestKernels.debian61();
        release = KernelImage.open(kernel).release();
    }

    static Path root() {
        return Path.of(System.getProperty("faultline.root", "..")).toAbsolutePath();
    }

    /** The matrix row whose label starts with {@code label}, split into its cells. */
    static String row(String out, String label) {
        return out.lines().filter(l -> l.startsWith(label + " ")).findFirst()
                .orElseThrow(() -> new AssertionError("no row " + label + " in\n" + out));
    }

    @Test
    void probeShowsWhatTheDebianKernelLacksAgainstThisOne() {
        CliRun run = CliRun.of("probe", "--kernel", "host", "--kernel", kernel.toString(), "--backend", "anon,shmem");
        assertEquals(0, run.exit(), run.err());
        String host = dev.faultline.core.probe.CapabilityProbe.kernelRelease();
        assertTrue(run.out().lines().findFirst().orElseThrow().matches(" +" + java.util.regex.Pattern.quote(host) + " +"
                + java.util.regex.Pattern.quote(release)), run.out());
        // features 6.1 does not have: UFFDIO_MOVE (6.8), WP_UNPOPULATED (6.4), POISON (6.6)
        for (String f : new String[] {"MOVE", "WP_UNPOPULATED", "POISON"}) {
            assertTrue(row(run.out(), "  " + f).matches(" +" + f + " +yes +- +≠"), row(run.out(), "  " + f));
        }
        assertTrue(row(run.out(), "  MISSING_SHMEM").matches(" +MISSING_SHMEM +yes +yes"), run.out());
        // the ioctls: MOVE and POISON resolve on this kernel; 6.1 does not know them (EINVAL)
        assertTrue(row(run.out(), "anon").contains("ok"), run.out());
        assertTrue(run.out().lines().anyMatch(l -> l.matches("anon +MISSING +MOVE +ok +EINVAL +≠")), run.out());
        assertTrue(run.out().lines().anyMatch(l -> l.matches("shmem +MISSING +POISON +ok +EINVAL +≠")), run.out());
        assertTrue(run.out().lines().anyMatch(l -> l.matches("shmem +MINOR +CONTINUE +ok +ok")), run.out());
        assertTrue(run.err().contains(release + ": booted in "), run.err());
        assertTrue(run.out().contains("timings from these guests are for function only") || !run.out().contains("tcg"), run.out());
    }

    @Test
    void replayUnderTheDebianKernelWritesOneResultsFileOfItsRuns(@TempDir Path dir) throws Exception {
        Path trace = root().resolve("traces/sequential-shmem-copy.arrow");
        Path out = dir.resolve("r.arrow");
        // caches of four earlier builds, the oldest of which goes when this build's is made
        Path caches = Files.createDirectories(dir.resolve("jvm"));
        for (int days = 1; days <= 4; days++) {
            Path old = Files.writeString(caches.resolve("faultline-00000000000000" + days + "0.aot"), "an earlier build's");
            Files.setLastModifiedTime(old, java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis() - days * 86_400_000L));
        }
        // as a user runs it, from jar files: the guests' JVMs then start from a start-up cache the command makes first;
        // with a warm-up run, whose results go to a scratch file in the guest's temporary directory, on 9p (no O_TMPFILE)
        CliRun run = inJvmFromJars(dir, "replay", trace.toString(), "--kernel", kernel.toString(), "--runs", "2", "--warmup", "1",
                "-o", out.toString());
        assertEquals(0, run.exit(), run.err() + run.out());
        assertTrue(run.err().contains("guests: start-up cache made in "), run.err());
        try (var files = Files.list(caches)) {
            List<String> all = files.map(p -> p.getFileName().toString()).sorted().toList();
            List<String> names = all.stream().filter(n -> !n.startsWith("libzstd-jni-")).toList();
            assertEquals(4, names.size(), "this build's cache and the three newest others, nothing left of its training: " + all);
            assertFalse(names.contains("faultline-0000000000000040.aot"), "the oldest is gone: " + names);
            assertTrue(names.stream().allMatch(n -> n.matches("faultline-[0-9a-f]{16}\\.aot")), names.toString());
            assertTrue(all.stream().anyMatch(n -> n.matches("libzstd-jni-.+\\.so")), "zstd-jni's library, unpacked once for the guests: " + all);
        }
        long largest;
        try (var files = Files.list(caches)) {
            largest = files.mapToLong(p -> p.toFile().length()).max().orElse(0);
        }
        assertTrue(largest > 1 << 20, "this build's cache holds the classes (a JDK whose dump crashed left it empty): " + largest + " bytes");
        Path results = dir.resolve("r." + release + ".arrow");
        assertTrue(Files.exists(results), run.out());
        assertFalse(Files.exists(out), "no file without the kernel's name");
        TreeMap<Integer, Integer> faultsPerRun = new TreeMap<>();
        try (TraceReader r = TraceReader.open(results)) {
            assertEquals(release, r.header().kernel(), "the results name the guest's kernel");
            assertEquals("2", r.header().extra().get("runs"));
            assertTrue(r.header().extra().get("runs_in").startsWith("guest ("), r.header().extra().toString());
            TraceEvent e = new TraceEvent();
            while (r.nextBatch()) {
                for (int i = 0; i < r.batchRows(); i++) {
                    r.read(i, e);
                    if (e.tWake > 0) {
                        faultsPerRun.merge(e.run, 1, Integer::sum);
                    }
                }
            }
        }
        // the sample trace faults its 4,000 pages once each, in every run
        assertEquals(new TreeMap<>(java.util.Map.of(0, 4000, 1, 4000)), faultsPerRun);
        assertTrue(run.out().contains("then the first measured fault "), run.out());
        CliRun analyzed = CliRun.of("analyze", results.toString(), "-o", dir.resolve("report").toString());
        assertEquals(0, analyzed.exit(), analyzed.err());
    }

    @Test
    void aKernelThatCannotDoTheCombinationIsRefusedAndTheOthersRun(@TempDir Path dir) throws Exception {
        Path trace = root().resolve("traces/random-anon-copy.arrow");
        CliRun run = CliRun.of("replay", trace.toString(), "--resolve", "move", "--kernel", "host", "--kernel", kernel.toString(),
                "--warmup", "0", "-o", dir.resolve("m.arrow").toString());
        assertEquals(1, run.exit(), run.err() + run.out());
        assertTrue(run.err().lines().anyMatch(l -> l.startsWith("faultline replay: " + release + ": refused: ")
                && l.contains("MOVE")), run.err());
        String host = dev.faultline.core.probe.CapabilityProbe.kernelRelease();
        assertTrue(Files.exists(dir.resolve("m." + host + ".arrow")), "the host's run still wrote its results: " + run.out());
        assertFalse(Files.exists(dir.resolve("m." + release + ".arrow")));
        removeKeptFiles(run);
    }

    @Test
    void aGuestThatDoesNotBootInTimeIsKilledWithItsConsole() throws Exception {
        CliRun run = CliRun.of("probe", "--kernel", kernel.toString(), "--boot-timeout", "1s", "--backend", "anon");
        assertEquals(1, run.exit(), run.err());
        assertTrue(run.err().contains("faultline probe: guest of kernel " + release + " did not boot within 1 s; killed it"), run.err());
        assertTrue(run.err().lines().anyMatch(l -> l.startsWith("  | ")), "the console's last lines: " + run.err());
        Path kept = removeKeptFiles(run);
        assertNotNull(kept, "a guest that failed keeps its files and says where: " + run.err());
    }

    /**
     * Runs faultline in a JVM of its own whose class path is this test's, with every module's
     * classes directory made a jar (the JVM's start-up cache takes classes from jar files only), and
     * the kernel and JVM caches under {@code dir}.
     */
    static CliRun inJvmFromJars(Path dir, String... args) throws Exception {
        List<String> classPath = new ArrayList<>();
        for (Path p : KernelSession.classPath()) {
            if (!Files.isDirectory(p)) {
                classPath.add(p.toString());
            } else if (p.endsWith(Path.of("target", "classes"))) {
                Path jar = dir.resolve("cp").resolve(p.getParent().getParent().getFileName() + ".jar");
                Files.createDirectories(jar.getParent());
                try (var zip = new JarOutputStream(Files.newOutputStream(jar)); var files = Files.walk(p)) {
                    for (Path f : (Iterable<Path>) files.filter(Files::isRegularFile).sorted()::iterator) {
                        zip.putNextEntry(new JarEntry(p.relativize(f).toString()));
                        Files.copy(f, zip);
                        zip.closeEntry();
                    }
                }
                classPath.add(jar.toString());
            }
        }
        List<String> cmd = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "--add-opens=java.base/java.nio=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow",
                "-cp", String.join(":", classPath), Faultline.class.getName()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(dir.resolve("out.txt").toFile()).redirectError(dir.resolve("err.txt").toFile());
        pb.environment().put("FAULTLINE_KERNELS", dir.resolve("kernels").toString());
        Process child = pb.start();
        if (!child.waitFor(20, TimeUnit.MINUTES)) {
            child.destroyForcibly();
            throw new AssertionError("faultline " + String.join(" ", args) + " did not end within 20 min: " + Files.readString(dir.resolve("err.txt")));
        }
        int exit = child.exitValue();
        return new CliRun(exit, Files.readString(dir.resolve("out.txt")), Files.readString(dir.resolve("err.txt")));
    }

    /**
     * The directory a failed guest's files were kept in, as the command named it (null if none),
     * checked to hold a console log, then removed: a test run leaves nothing in /tmp.
     */
    private static Path removeKeptFiles(CliRun run) throws java.io.IOException {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("kept the guests' files \\(console logs\\) in (\\S+)")
                .matcher(run.err());
        if (!m.find()) {
            return null;
        }
        Path kept = Path.of(m.group(1));
        try (var logs = Files.find(kept, 3, (p, a) -> p.getFileName().toString().equals("console.log"))) {
            assertTrue(logs.findAny().isPresent(), "a console log in " + kept);
        }
        dev.faultline.analysis.Report.deleteTree(kept);
        return kept;
    }

    @Test
    void aFileThatIsNoKernelIsAUsageError(@TempDir Path dir) throws Exception {
        Path junk = Files.write(dir.resolve("vmlinuz"), new byte[4096]);
        CliRun run = CliRun.of("probe", "--kernel", junk.toString());
        assertEquals(2, run.exit());
        assertTrue(run.err().startsWith("faultline probe: --kernel: kernel " + junk + " is not an x86 bzImage"), run.err());
        CliRun missing = CliRun.of("probe", "--kernel", "9.9.9-nonesuch");
        assertEquals(2, missing.exit());
        assertTrue(missing.err().startsWith("faultline probe: --kernel: kernel 9.9.9-nonesuch: no such file; "), missing.err());
    }
}
