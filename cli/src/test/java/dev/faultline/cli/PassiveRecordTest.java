package dev.faultline.cli;

import dev.faultline.collector.passive.PassiveCapture;
import dev.faultline.core.abi.Libbpf;
import dev.faultline.core.region.HugePages;
import dev.faultline.core.trace.EventKind;
import dev.faultline.core.trace.RegionInfo;
import dev.faultline.core.trace.TraceEvent;
import dev.faultline.core.trace.TraceReader;
import dev.faultline.core.uffd.ResolveIoctl;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Passive capture against ground truth: the C floor (counts known) and a Faultline recording in
 * another JVM (its own trace says what happened), captured with the real BPF program on the real kernel.
 */
class PassiveRecordTest {
    static Path floor;

    /**
     * Every test here needs root, libbpf and the BPF program compiled into the build; each says so
     * itself when they are missing (an assumption in @BeforeAll would make the runner report no
     * tests at all, not skipped ones).
     */
    @BeforeEach
    void needsRootAndTheBpfProgram() throws IOException {
        assumeCanCapture();
    }

    static void assumeCanCapture() throws IOException {
        assumeTrue(isRoot(), "passive capture needs root to load BPF programs");
        assumeTrue(Libbpf.available(), "passive capture needs libbpf: " + Libbpf.unavailableReason());
        assumeTrue(PassiveCapture.class.getResource("capture.bpf.o") != null,
                "the build has no BPF capture program: clang was missing (apt-get install clang libbpf-dev)");
    }

    /**
     * The C floor, built with gcc: ../shared/reference/uffd_floor.c next to the project when it is
     * there (the reference itself), else this module's verbatim copy of it (a clone on its own).
     */
    static synchronized Path floor() throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/gcc")), "gcc is not installed (apt-get install gcc): the C floor cannot be built");
        if (floor == null) {
            Path shared = Path.of(System.getProperty("user.dir")).resolve("../../shared/reference/uffd_floor.c").normalize();
            Path src = Files.exists(shared) ? shared : Path.of(PassiveRecordTest.class.getResource("/floor/uffd_floor.c").toURI());
            Path bin = Path.of(System.getProperty("user.dir"), "target", "uffd_floor"); // goes with mvn clean, not left in /tmp
            Process gcc = new ProcessBuilder("gcc", "-O2", "-pthread", "-o", bin.toString(), src.toString()).inheritIO().start();
            assertEquals(0, gcc.waitFor(), "gcc builds the C floor from " + src);
            floor = bin;
        }
        return floor;
    }

    static boolean isRoot() throws IOException {
        return Files.readAllLines(Path.of("/proc/self/status")).stream()
                .filter(l -> l.startsWith("Uid:")).anyMatch(l -> l.split("\\s+")[2].equals("0"));
    }

    static List<TraceEvent> rows(TraceReader r) throws IOException {
        List<TraceEvent> all = new ArrayList<>();
        while (r.nextBatch()) {
            for (int i = 0; i < r.batchRows(); i++) {
                TraceEvent e = new TraceEvent();
                r.read(i, e);
                all.add(e);
            }
        }
        return all;
    }

    @Test
    void theCFloorsFaultsAndCopiesAreAllThereWithTheirTimesInOrder(@TempDir Path dir) throws Exception {
        int pages = 3000;
        Path t = dir.resolve("floor.arrow");
        CliRun run = CliRun.of("record", "-o", t.toString(), "--json", "--", floor().toString(), "shmem", "copy",
                Integer.toString(pages), "spin");
        assertEquals(0, run.exit(), run.err());
        assertTrue(run.out().contains("\"faults\":" + pages), run.out());
        try (TraceReader r = TraceReader.open(t)) {
            assertEquals("ebpf", r.header().source());
            assertEquals("memfd:uffd_floor", r.header().regions().getFirst().name(), "named as its mapping is");
            assertEquals(1, r.header().regions().size(), "one UFFDIO_REGISTER");
            RegionInfo region = r.header().regions().getFirst();
            assertEquals("shmem", region.backend());
            assertEquals(4096, region.pageSize());
            assertEquals((long) pages * 4096, region.length());
            assertEquals("0", r.footer().get("lost_events"));
            boolean[] seen = new boolean[pages];
            int timed = 0;
            for (TraceEvent e : rows(r)) {
                assertEquals(EventKind.PAGEFAULT, e.kind, e.toString());
                assertEquals(ResolveIoctl.COPY, e.ioctl);
                assertEquals(0, e.result);
                assertEquals(e.offset, e.resolveOffset, "the floor copies exactly the faulting page");
                assertEquals(4096, e.resolveLength);
                int page = (int) (e.offset / 4096);
                assertFalse(seen[page], "page " + page + " twice");
                seen[page] = true;
                assertTrue(e.tRead <= e.tResolveStart && e.tResolveStart <= e.tResolveEnd, e.toString());
                if (e.tFault != TraceEvent.UNKNOWN) {
                    assertTrue(e.tFault <= e.tRead, e.toString());
                    timed++;
                }
            }
            for (int p = 0; p < pages; p++) {
                assertTrue(seen[p], "page " + p + " missing");
            }
            assertTrue(timed > pages * 9 / 10, timed + " of " + pages + " faults have their page_fault_user entry");
        }
    }

    /**
     * The program counts the handler's reads of its uffd: the floor spinning makes many that find
     * nothing and is traced at SCHED_BATCH; in poll(2) it makes about one per fault and is traced
     * at SCHED_IDLE (CaptureThreads).
     */
    @Test
    void aSpinningHandlerIsToldFromOneInPoll(@TempDir Path dir) throws Exception {
        assumeTrue(System.getenv("FAULTLINE_CAPTURE_SCHED") == null, "FAULTLINE_CAPTURE_SCHED is set: the policy is fixed");
        int pages = 20_000;
        for (String wait : List.of("spin", "poll")) {
            Path t = dir.resolve(wait + ".arrow");
            CliRun run = CliRun.of("record", "-o", t.toString(), "--", floor().toString(), "shmem", "copy",
                    Integer.toString(pages), wait);
            assertEquals(0, run.exit(), run.err());
            try (TraceReader r = TraceReader.open(t)) {
                long empty = Long.parseLong(r.footer().get("empty_reads"));
                long full = Long.parseLong(r.footer().get("full_reads"));
                assertTrue(full >= 1 && full <= pages, wait + ": " + full + " reads returned messages for " + pages + " faults");
                if (wait.equals("spin")) {
                    assertTrue(empty > 4L * full, "spinning: " + empty + " empty reads for " + full + " full ones");
                    assertEquals("batch", r.footer().get("capture_policy"));
                } else {
                    assertTrue(empty <= 2L * full, "in poll: " + empty + " empty reads for " + full + " full ones");
                    assertEquals("idle", r.footer().get("capture_policy"));
                }
            }
        }
    }

    /**
     * A handler started by a wrapper: two shells deep, neither exec'ing it, it is followed from its
     * uffd on (every fault there); attached to a wrapper that starts it later, the same.
     */
    @Test
    void aHandlerStartedByAWrapperIsFollowed(@TempDir Path dir) throws Exception {
        Path t = dir.resolve("wrapped.arrow");
        String inner = floor() + " shmem copy 2000 poll >/dev/null; true";
        CliRun run = CliRun.of("record", "-o", t.toString(), "--json", "--", "sh", "-c", "sh -c '" + inner + "'; true");
        assertEquals(0, run.exit(), run.err());
        assertTrue(run.out().contains("\"faults\":2000"), run.out());
        assertTrue(run.err().contains("faultline record: followed pid ") && run.err().contains("(uffd_floor), started by pid "),
                run.err());
        try (TraceReader r = TraceReader.open(t)) {
            String startedBy = r.header().extra().get(PassiveCapture.KEY_STARTED_BY);
            assertNotNull(startedBy, r.header().extra().toString());
            assertNotEquals(startedBy, r.header().extra().get("pid"), "the handler's pid, not the wrapper's");
            assertEquals("uffd_floor", r.header().extra().get("comm"));
            assertEquals("memfd:uffd_floor", r.header().regions().getFirst().name());
            int copies = 0;
            for (TraceEvent e : rows(r)) {
                assertEquals(ResolveIoctl.COPY, e.ioctl, e.toString());
                copies++;
            }
            assertEquals(2000, copies);
        }

        if (HugePages.free(2 << 20) >= 24) { // its huge pages, mapped before it was followed, keep their page size
            Path huge = dir.resolve("wrapped-2m.arrow");
            CliRun h = CliRun.of("record", "-o", huge.toString(), "--json", "--", "sh", "-c",
                    floor() + " hugetlb2m copy 16 poll >/dev/null; true");
            assertEquals(0, h.exit(), h.err());
            assertTrue(h.out().contains("\"faults\":16"), h.out());
            try (TraceReader r = TraceReader.open(huge)) {
                assertEquals(2 << 20, r.header().regions().getFirst().pageSize(), r.header().regions().toString());
            }
        } else {
            System.err.println("PassiveRecordTest: a wrapped hugetlb2m handler not captured: " + HugePages.reserveHint(2 << 20, 24));
        }

        Process wrapper = new ProcessBuilder("sh", "-c", "sleep 2; " + floor() + " anon zeropage 1000 poll >/dev/null; true").start();
        try {
            CliRun attached = CliRun.of("record", "--pid", Long.toString(wrapper.pid()), "-o", dir.resolve("attached.arrow").toString(),
                    "--json");
            assertEquals(0, attached.exit(), attached.err());
            assertTrue(attached.out().contains("\"faults\":1000") && attached.out().contains("\"ZEROPAGE\":1000"), attached.out());
            assertTrue(attached.err().contains("faultline record: followed pid "), attached.err());
        } finally {
            wrapper.destroy();
            wrapper.waitFor(5, TimeUnit.SECONDS);
        }
    }

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({"anon, wp, 1000, WRITEPROTECT, anon, 4096, WP", "hugetlb2m, continue, 16, CONTINUE, hugetlb, 2097152, MINOR",
            "anon, move, 1000, MOVE, anon, 4096, MISSING"})
    void eachModeOfTheFloorIsCapturedWithItsIoctlAndRegion(String backend, String op, int pages, ResolveIoctl ioctl,
                                                           String traceBackend, long pageSize, String modes,
                                                           @TempDir Path dir) throws Exception {
        if (backend.startsWith("hugetlb")) {
            assumeTrue(HugePages.free(pageSize) > pages, "needs " + pages + " free 2M huge pages: " + HugePages.reserveHint(pageSize, 64));
        }
        Path t = dir.resolve("t.arrow");
        CliRun run = CliRun.of("record", "-o", t.toString(), "--", floor().toString(), backend, op, Integer.toString(pages), "spin");
        assertEquals(0, run.exit(), run.err());
        try (TraceReader r = TraceReader.open(t)) {
            RegionInfo region = r.header().regions().getFirst();
            assertEquals(traceBackend, region.backend());
            assertEquals(pageSize, region.pageSize());
            assertEquals(modes, region.modes());
            List<TraceEvent> rows = rows(r);
            assertEquals(pages, rows.size(), "one row per fault; a write-protecting call is not a row");
            for (TraceEvent e : rows) {
                assertEquals(EventKind.PAGEFAULT, e.kind);
                assertEquals(ioctl, e.ioctl, e.toString());
                assertEquals(0, e.result, e.toString());
            }
        }
    }

    @Test
    void aRecordingInAnotherJvmIsCapturedAsItRecordedItself(@TempDir Path dir) throws Exception {
        Path in = dir.resolve("in.arrow");
        Path passive = dir.resolve("passive.arrow");
        List<String> args = new ArrayList<>(List.of("record", "-o", passive.toString(), "--"));
        args.addAll(jvm());
        args.addAll(List.of("record", "--workload", "random", "--threads", "2", "--pages", "3000", "--warmup", "0", "-o", in.toString()));
        CliRun run = CliRun.of(args.toArray(String[]::new));
        assertEquals(0, run.exit(), run.err());

        Map<Long, TraceEvent> truth = new HashMap<>(); // by address
        long base;
        try (TraceReader r = TraceReader.open(in)) {
            base = r.header().regions().getFirst().base();
            for (TraceEvent e : rows(r)) {
                truth.put(e.address, e);
            }
        }
        assertEquals(3000, truth.size());
        int matched = 0;
        try (TraceReader r = TraceReader.open(passive)) {
            RegionInfo region = r.header().regions().stream().filter(x -> x.base() == base).findFirst().orElse(null);
            assertNotNull(region, "the workload's region is among the registrations captured: " + r.header().regions());
            assertEquals("0", r.footer().get("lost_events"));
            for (TraceEvent p : rows(r)) {
                if (p.region != region.id()) {
                    continue; // the probe's own test region, registered before the workload
                }
                TraceEvent t = truth.get(p.address);
                assertNotNull(t, "a captured fault the recording does not have: " + p);
                assertEquals(t.kind, p.kind, "captured " + p + " / recorded " + t + "; the capture said: " + run.err());
                assertEquals(t.offset, p.offset);
                assertEquals(t.flags, p.flags);
                assertEquals(t.tid, p.tid, "the faulting thread (UFFD_FEATURE_THREAD_ID)");
                assertEquals(t.ioctl, p.ioctl);
                assertEquals(t.resolveOffset, p.resolveOffset);
                assertEquals(t.resolveLength, p.resolveLength);
                assertEquals(t.result, p.result);
                // the same clock seen from outside: the kernel's view falls inside the JVM's own brackets
                assertTrue(p.tRead <= t.tRead, "read(2) returns before the handler takes its time: " + p + " / " + t);
                assertTrue(t.tResolveStart <= p.tResolveStart && p.tResolveEnd <= t.tResolveEnd,
                        "the ioctl as the kernel saw it is inside the handler's timing: " + p + " / " + t);
                if (p.tFault != TraceEvent.UNKNOWN) {
                    assertTrue(t.tFault <= p.tFault && p.tFault <= p.tRead, "page_fault_user after the toucher's clock: " + p + " / " + t);
                }
                matched++;
            }
        }
        assertEquals(3000, matched, "every fault of the recording, once");
    }

    @Test
    void aCapturedTraceReplaysAndAnalyzes(@TempDir Path dir) throws Exception {
        Path t = dir.resolve("floor.arrow");
        assertEquals(0, CliRun.of("record", "-o", t.toString(), "--", floor().toString(), "anon", "zeropage", "2000", "spin").exit());
        Path r = dir.resolve("replay.arrow");
        CliRun replay = CliRun.of("replay", t.toString(), "-o", r.toString(), "--warmup", "0", "--json");
        assertEquals(0, replay.exit(), replay.err());
        assertTrue(replay.out().contains("\"faults\":2000"), replay.out());
        // the capture has no wake time: compared with its replay on fault -> resolve, which both have, or refused
        CliRun compare = CliRun.of("compare", t.toString(), r.toString(), "-o", dir.resolve("cmp").toString());
        assertTrue(compare.exit() == 0 || compare.exit() == 3, compare.out() + compare.err());
        List<String> said = compare.out().lines().toList();
        assertTrue(said.get(0).startsWith("base       " + t + "  (kernel "), compare.out());
        assertTrue(said.get(2).startsWith("latency: fault -> resolve: t_resolve_end - t_fault (the definition both sides have"),
                compare.out());
        CliRun endToEnd = CliRun.of("compare", t.toString(), r.toString(), "--latency", "end-to-end", "-o", dir.resolve("e2e").toString());
        assertEquals(1, endToEnd.exit(), endToEnd.out() + endToEnd.err());
        assertEquals(1, endToEnd.err().strip().lines().count(), endToEnd.err());
        assertTrue(endToEnd.err().contains("not both sides have t_wake - t_fault"), endToEnd.err());
        assertFalse(Files.exists(dir.resolve("e2e")), "no report for a refused comparison");
        CliRun analyze = CliRun.of("analyze", t.toString(), "-o", dir.resolve("report").toString());
        assertEquals(0, analyze.exit(), analyze.err());
        assertTrue(Files.exists(dir.resolve("report/index.html")));
    }

    @Test
    void anAttachedCaptureEndsAfterItsDurationWithAFinishedFile(@TempDir Path dir) throws Exception {
        Process target = slowHandler(dir, "random", 100000);
        Path t = dir.resolve("cap.arrow");
        try {
            CliRun run = CliRun.of("record", "--pid", Long.toString(target.pid()), "--duration", "1500ms", "--json",
                    "-o", t.toString());
            assertEquals(0, run.exit(), run.err());
            assertTrue(run.out().contains("\"ended_by\":\"duration\""), run.out());
            assertTrue(target.isAlive(), "attaching and detaching leave the process running");
        } finally {
            target.destroyForcibly();
            target.waitFor(10, TimeUnit.SECONDS);
        }
        try (TraceReader r = TraceReader.open(t)) {
            assertFalse(r.recovered(), "the footer was written");
            assertEquals(1, r.header().regions().size(), "the region, from /proc/PID/smaps: " + r.header().regions());
            long rows = rows(r).size();
            assertEquals(Long.toString(rows), r.footer().get("events"));
            assertTrue(rows > 500, rows + " faults in about a second at 5,000/s");
        }
    }

    /** A Faultline handler in another JVM faulting 5,000 pages a second, registered and under way when this returns. */
    static Process slowHandler(Path dir, String workload, int pages) throws Exception {
        List<String> handler = new ArrayList<>(jvm());
        handler.addAll(List.of("record", "--workload", workload, "--pages", Integer.toString(pages), "--rate", "5000",
                "--warmup", "0", "--no-trace"));
        Process target = new ProcessBuilder(handler).redirectErrorStream(true).redirectOutput(dir.resolve("target.out").toFile()).start();
        Thread.sleep(2000);
        return target;
    }

    static List<String> jvm() {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        return List.of(java, "--enable-native-access=ALL-UNNAMED", "--add-opens=java.base/java.nio=ALL-UNNAMED",
                "--sun-misc-unsafe-memory-access=allow", "-cp", System.getProperty("java.class.path"), Faultline.class.getName());
    }

    @Test
    void aCaptureKilledWithSigkillLeavesAFileWithEveryRowUpToItsLastFlush(@TempDir Path dir) throws Exception {
        Process target = slowHandler(dir, "sequential", 200000);
        Path t = dir.resolve("cap.arrow");
        try {
            List<String> capture = new ArrayList<>(jvm());
            capture.addAll(List.of("record", "--pid", Long.toString(target.pid()), "-o", t.toString()));
            Process cap = new ProcessBuilder(capture).redirectErrorStream(true).redirectOutput(dir.resolve("cap.out").toFile()).start();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (System.nanoTime() < deadline && !(Files.exists(t) && Files.size(t) > 20_000)) {
                Thread.sleep(200);
            }
            Thread.sleep(1500);
            cap.destroyForcibly(); // SIGKILL
            cap.waitFor(10, TimeUnit.SECONDS);
            assertTrue(Files.exists(t), "the capture began writing: " + Files.readString(dir.resolve("cap.out")));
        } finally {
            target.destroyForcibly();
            target.waitFor(10, TimeUnit.SECONDS);
        }
        try (TraceReader r = TraceReader.open(t)) {
            assertTrue(r.recovered(), "no footer: the writer was killed");
            assertEquals(1, r.header().regions().size(), "the region, from /proc/PID/smaps at attach: " + r.header().regions());
            List<TraceEvent> rows = rows(r);
            assertTrue(rows.size() > 1000, rows.size() + " rows recovered");
            for (TraceEvent e : rows) {
                assertEquals(ResolveIoctl.COPY, e.ioctl, e.toString());
                assertEquals(0, e.result);
            }
        }
    }

    @Test
    void badTargetsGetOneLineAndANonZeroExitAndACaptureOfNothingIsAValidEmptyTrace(@TempDir Path dir) throws Exception {
        CliRun none = CliRun.of("record", "--pid", "999999999", "-o", dir.resolve("a.arrow").toString());
        assertNotEquals(0, none.exit());
        assertEquals(1, none.err().strip().lines().count(), none.err());
        assertTrue(none.err().contains("no process with pid 999999999"), none.err());

        Process sleeper = new ProcessBuilder("sleep", "30").start();
        try {
            CliRun noUffd = CliRun.of("record", "--pid", Long.toString(sleeper.pid()), "--duration", "1s", "-o",
                    dir.resolve("b.arrow").toString());
            // it ran and nothing happened: a valid trace of no rows, exit 0, and a line that says why it is empty
            assertEquals(0, noUffd.exit(), noUffd.err());
            List<String> lines = noUffd.err().strip().lines().toList();
            assertTrue(lines.getFirst().contains("no userfaultfd yet: waiting for one"), noUffd.err());
            assertTrue(lines.getLast().contains("nor a process it started had a userfaultfd (ended: duration)")
                    && lines.getLast().endsWith(dir.resolve("b.arrow") + " holds no rows"), noUffd.err());
            try (TraceReader r = TraceReader.open(dir.resolve("b.arrow"))) {
                assertFalse(r.nextBatch(), "no rows");
                assertFalse(r.recovered(), "a complete file");
                assertEquals("duration", r.footer().get("ended_by"));
            }
            CliRun analyze = CliRun.of("analyze", dir.resolve("b.arrow").toString(), "-o", dir.resolve("report").toString());
            assertEquals(0, analyze.exit(), "an empty trace analyzes: " + analyze.err());
        } finally {
            sleeper.destroy();
            sleeper.waitFor(5, TimeUnit.SECONDS);
        }
        CliRun missing = CliRun.of("record", "-o", dir.resolve("c.arrow").toString(), "--", "/nonexistent/handler");
        assertEquals(127, missing.exit(), "the shell's status for a command not found: " + missing.err());
        assertEquals("faultline record: /nonexistent/handler: command not found (nothing was run, nothing captured)",
                missing.err().strip());
        CliRun notOnPath = CliRun.of("record", "-o", dir.resolve("c.arrow").toString(), "--", "no-such-handler-on-path");
        assertEquals(127, notOnPath.exit(), notOnPath.err());
        assertFalse(Files.exists(dir.resolve("a.arrow")) || Files.exists(dir.resolve("c.arrow")),
                "no file where nothing ran");
    }

    @Test
    void anAttachedCaptureWaitsForTheUffdAndEndsWithinASecondOfTheProcessExit(@TempDir Path dir) throws Exception {
        // a handler that opens its userfaultfd two seconds after the capture attached, as QEMU does when postcopy starts
        Process late = new ProcessBuilder("sh", "-c", "sleep 2; exec \"$0\" shmem copy 2000 poll", floor().toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("late.out").toFile()).start();
        Path t = dir.resolve("late.arrow");
        long[] exited = new long[1];
        Thread watch = Thread.ofPlatform().start(() -> {
            try {
                late.waitFor();
                exited[0] = System.nanoTime();
            } catch (InterruptedException ignored) {
                Thread.currentThread().interrupt();
            }
        });
        CliRun run = CliRun.of("record", "--pid", Long.toString(late.pid()), "--json", "-o", t.toString());
        long returned = System.nanoTime();
        watch.join();
        assertEquals(0, run.exit(), run.err());
        assertTrue(run.err().contains("waiting for one"), run.err());
        assertTrue(run.out().contains("\"faults\":2000"), run.out());
        assertTrue(run.out().contains("\"ended_by\":\"process exited\""), run.out());
        assertTrue(returned - exited[0] < TimeUnit.SECONDS.toNanos(1), "the capture ended "
                + (returned - exited[0]) / 1_000_000 + " ms after the process had exited");
    }

    /** The Python handler of test resources/uffd/handler.py, started with {@code args}; returns once it says ready. */
    static Process pythonHandler(Path dir, String name, String... args) throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/python3")), "python3 is not installed: the Python handler cannot run");
        Path script = Path.of(PassiveRecordTest.class.getResource("/uffd/handler.py").toURI());
        List<String> cmd = new ArrayList<>(List.of("/usr/bin/python3", script.toString()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String line = new java.io.BufferedReader(new java.io.InputStreamReader(p.getInputStream())).readLine();
        assertEquals("ready", line, name + " did not start");
        return p;
    }

    @Test
    void aHandlerThatOpensDevUserfaultfdLaterIsWaitedForAndItsKernelModeFaultsHaveNoEntryTime(@TempDir Path dir)
            throws Exception {
        Process handler = pythonHandler(dir, "handler.py self", "self", "400");
        CliRun run = CliRun.of("record", "--pid", Long.toString(handler.pid()), "--json", "-o", dir.resolve("self.arrow").toString());
        handler.waitFor(30, TimeUnit.SECONDS);
        assertEquals(0, run.exit(), run.err());
        assertTrue(run.err().contains("waiting for one"), "it attached before the uffd existed: " + run.err());
        JsonSummary j = JsonSummary.of(run.out());
        assertEquals(400, j.faults(), "the uffd from USERFAULTFD_IOC_NEW was found: " + run.out());
        assertEquals(0, j.timed(), "the faults were taken in write(2), in the kernel: no page_fault_user");
        assertEquals(400, j.serviced(), "their service time is known");
    }

    @Test
    void aUffdReceivedOverASocketIsFollowedIntoTheSendersMemory(@TempDir Path dir) throws Exception {
        Path socket = dir.resolve("uffd.sock");
        Process server = pythonHandler(dir, "handler.py serve", "serve", socket.toString(), "300");
        for (String detail : List.of("events", "summary")) {
            if (detail.equals("summary")) {
                server = pythonHandler(dir, "handler.py serve", "serve", socket.toString(), "300");
            }
            Path t = dir.resolve(detail + ".arrow");
            CliRun.Running capture = CliRun.start("record", "--pid", Long.toString(server.pid()), "--detail", detail, "--json",
                    "-o", t.toString());
            assertTrue(capture.awaitErr("probes attached", 60_000), capture.err());
            Process vmm = pythonHandler(dir, "handler.py vmm", "vmm", socket.toString(), "300"); // Firecracker's shape: the VMM sends its uffd
            CliRun run = capture.join(60_000);
            vmm.waitFor(30, TimeUnit.SECONDS);
            assertEquals(0, run.exit(), run.err());
            JsonSummary j = JsonSummary.of(run.out());
            assertEquals(300, j.faults(), detail + ": every fault of the received uffd, its region found in the sender: " + run.out());
            Files.deleteIfExists(socket);
        }
    }

    /** What record --json said. */
    record JsonSummary(long faults, long timed, long serviced) {
        static JsonSummary of(String json) throws IOException {
            com.fasterxml.jackson.databind.JsonNode n = new com.fasterxml.jackson.databind.ObjectMapper().readTree(json);
            return new JsonSummary(n.path("faults").asLong(), n.path("latency_count").asLong(), n.path("service_count").asLong());
        }
    }

    @Test
    void aSummaryCaptureCountsEveryFaultInTheKernelAndAnalyzeReadsIt(@TempDir Path dir) throws Exception {
        int pages = 3000;
        Path t = dir.resolve("summary.arrow");
        CliRun run = CliRun.of("record", "--detail", "summary", "-o", t.toString(), "--json", "--", floor().toString(), "shmem",
                "copy", Integer.toString(pages), "spin");
        assertEquals(0, run.exit(), run.err());
        assertTrue(run.out().contains("\"faults\":" + pages), run.out());
        assertTrue(run.out().contains("\"ioctls\":{\"COPY\":" + pages + "}"), run.out());
        long histogrammed = 0;
        long threadFaults = 0;
        try (TraceReader r = TraceReader.open(t)) {
            assertEquals("summary", r.header().extra().get("detail"));
            for (TraceEvent e : rows(r)) {
                assertTrue(e.kind.isSummary(), "a summary file has no event rows: " + e);
                if (e.kind == EventKind.FAULT_HISTOGRAM) {
                    assertEquals(ResolveIoctl.COPY, e.ioctl);
                    histogrammed += e.count;
                    org.HdrHistogram.Histogram service = org.HdrHistogram.Histogram.decodeFromCompressedByteBuffer(
                            java.nio.ByteBuffer.wrap(e.histService), 0);
                    assertEquals(e.count, service.getTotalCount(), "every resolved fault has a service time");
                } else if (e.kind == EventKind.THREAD_BLOCKED) {
                    threadFaults += e.count;
                    assertTrue(e.totalNanos > 0, e.toString());
                }
            }
        }
        assertEquals(pages, histogrammed);
        assertEquals(pages, threadFaults, "the floor's one faulting thread was blocked on every fault");
        CliRun analyze = CliRun.of("analyze", t.toString(), "-o", dir.resolve("report").toString());
        assertEquals(0, analyze.exit(), analyze.err());
        assertTrue(analyze.out().contains(String.format(java.util.Locale.ROOT, "%,d", pages)), analyze.out());
        assertTrue(analyze.out().contains("fault -> resolve"), "the same latency as record's: " + analyze.out());
    }
}
