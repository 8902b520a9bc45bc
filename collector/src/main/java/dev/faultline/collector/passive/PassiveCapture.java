package dev.faultline.collector.passive;

import dev.faultline.core.abi.UffdAbi;
import dev.faultline.core.trace.Compression;
import dev.faultline.core.trace.RegionInfo;
import dev.faultline.core.trace.TraceEvent;
import dev.faultline.core.trace.TraceHeader;
import dev.faultline.core.trace.TraceWriter;
import dev.faultline.core.uffd.ResolveIoctl;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Records the userfaultfd handler of another process, unmodified, with bpftrace on tracepoints,
 * into the same trace format the in-process recorder writes ({@code source = bpftrace}).
 *
 * <p>bpftrace runs {@link BpftraceScript}; its output is read as a stream, put back in time order
 * ({@link EventOrder}), linked into rows ({@link FaultLinker}) and written in Arrow batches as it
 * goes, flushed at least every {@link #FLUSH_NANOS}: memory stays bounded and a capture killed
 * with SIGKILL leaves a file that yields every row up to the last flush. The capture ends when
 * the process exits, the duration passes or {@link #stop} is called; the file is finished in
 * every case, with bpftrace's lost-event count in the footer.
 */
public final class PassiveCapture {
    /** Rows reach the file at most this long after they were linked. */
    public static final long FLUSH_NANOS = TimeUnit.SECONDS.toNanos(1);
    /**
     * How far out of order bpftrace's per-CPU buffers may deliver events. It drains one CPU's
     * buffer after another, so when it falls behind (a spinning handler and its faulting threads
     * leave it little CPU) one CPU's events come as late as its backlog: 200 ms left 4,306 of
     * 26,000 events out of order in a 20k faults/s capture here; 2 s left none.
     */
    public static final long ORDER_WINDOW_NANOS = TimeUnit.SECONDS.toNanos(2);
    /** Footer key: events bpftrace reported lost. */
    public static final String FOOTER_LOST = "lost_events";
    /** After the process exits, bpftrace is stopped once no event has come for this long. */
    static final long QUIET_NANOS = TimeUnit.MILLISECONDS.toNanos(300);
    /** Entries per bpftrace map: fault entries waiting for their message, one per page or thread. */
    static final int MAP_KEYS = 1 << 16;
    /** Per-CPU perf ring of bpftrace, in pages (16 MiB each): a burst of faults must fit. */
    static final int PERF_RB_PAGES = 4096;

    /** A progress report: rows written, faults linked, nanoseconds so far. */
    public record Progress(long rows, long faults, long nanos) {
    }

    private final int pid;
    private final Process launched;
    private final Path out;
    private final Compression compression;
    private final long durationNanos;
    private final String command;
    private volatile boolean stopRequested;
    private volatile String endedBy = "process exited";
    private volatile Process bpftrace;
    private boolean began;
    private volatile long beganNanos; // when the probes were attached; 0 before
    private volatile long lastArrival = System.nanoTime();
    private final Map<Long, ProcessMaps.Area> seenAreas = new HashMap<>();

    private PassiveCapture(int pid, Process launched, Path out, Compression compression, long durationNanos, String command) {
        this.pid = pid;
        this.launched = launched;
        this.out = out;
        this.compression = compression;
        this.durationNanos = durationNanos;
        this.command = command;
    }

    /**
     * Prepares a capture of the running process {@code pid}.
     *
     * @param durationNanos stop after this long (0: until the process exits or {@link #stop})
     * @throws CaptureException (one line) if bpftrace is missing, privilege is missing, the process
     *                          does not exist or has no userfaultfd
     */
    public static PassiveCapture attach(int pid, Path out, Compression compression, long durationNanos, String command)
            throws IOException {
        checkTools();
        if (!Files.isDirectory(Path.of("/proc/" + pid))) {
            throw new CaptureException("no process with pid " + pid);
        }
        Target target = Target.look(pid);
        int[] fds = target.fds();
        ProcessMaps maps = target.maps();
        if (fds.length == 0 && maps.registered().isEmpty()) {
            throw new CaptureException("process " + pid + " (" + comm(pid) + ") has no userfaultfd open and no memory "
                    + "registered with one: nothing to capture (to trace a handler from its start: faultline record -- COMMAND)");
        }
        return new PassiveCapture(pid, null, out, compression, durationNanos, command);
    }

    /**
     * Starts {@code argv} stopped before its first instruction, to be traced from the start by
     * {@link #run} (which lets it go once bpftrace is attached). Its stdin, stdout and stderr are ours.
     */
    public static PassiveCapture launch(List<String> argv, Path out, Compression compression, long durationNanos, String command)
            throws IOException {
        checkTools();
        List<String> cmd = new ArrayList<>(List.of("sh", "-c", "kill -STOP $$; exec \"$@\"", "sh"));
        cmd.addAll(argv);
        Process p;
        try {
            p = new ProcessBuilder(cmd).inheritIO().start();
        } catch (IOException e) {
            throw new CaptureException("cannot start " + argv.getFirst() + ": " + e.getMessage());
        }
        int pid = (int) p.pid();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!stopped(pid)) {
            if (!p.isAlive() || System.nanoTime() > deadline) {
                p.destroyForcibly();
                throw new CaptureException("could not start " + argv.getFirst() + " stopped for tracing");
            }
            sleepMillis(2);
        }
        return new PassiveCapture(pid, p, out, compression, durationNanos, command);
    }

    /** What a process has open and mapped, as /proc shows it now. */
    private record Target(int[] fds, ProcessMaps maps) {
        static Target look(int pid) throws IOException {
            try {
                return new Target(ProcessMaps.uffdFds(pid), ProcessMaps.read(pid));
            } catch (NoSuchFileException e) {
                throw new CaptureException("process " + pid + " exited before it could be attached to");
            }
        }
    }

    /** The traced process. */
    public int pid() {
        return pid;
    }

    /** Ends the capture (e.g. on Ctrl-C); {@link #run} then finishes the file and returns. */
    public void stop() {
        endedBy = "stopped";
        stopRequested = true;
        interrupt();
    }

    /**
     * Captures until the process exits, the duration passes or {@link #stop}.
     *
     * @param progress called about once a second on the calling thread
     * @throws CaptureException if bpftrace fails (the file keeps what was captured)
     */
    public CaptureSummary run(Consumer<Progress> progress) throws IOException {
        Target target = Target.look(pid);
        int[] fds = target.fds();
        ProcessMaps maps = target.maps();
        long lo = -1;
        long hi = 0;
        for (ProcessMaps.Area a : maps.registered()) {
            lo = lo < 0 ? a.start() : Math.min(lo, a.start());
            hi = Math.max(hi, a.end());
        }
        Path script = Files.createTempFile("faultline-capture-", ".bt");
        Files.writeString(script, BpftraceScript.forPid(pid, fds, lo, hi));
        ProcessBuilder pb = new ProcessBuilder("bpftrace", "--no-warnings", script.toString());
        pb.environment().put("BPFTRACE_PERF_RB_PAGES", Integer.toString(PERF_RB_PAGES));
        pb.environment().put("BPFTRACE_MAP_KEYS_MAX", Integer.toString(MAP_KEYS));
        pb.redirectInput(ProcessBuilder.Redirect.PIPE);
        Sink sink = new Sink();
        FaultLinker linker = new FaultLinker(sink, address -> seenAreas.containsKey(address) ? seenAreas.get(address) : areaAt(address));
        for (ProcessMaps.Area a : maps.registered()) {
            linker.known(a.start(), a.end(), a.backend(), a.modes());
        }
        sink.linker = linker;
        EventOrder order = new EventOrder(ORDER_WINDOW_NANOS, linker);
        long t0 = System.nanoTime();
        long lost = 0;
        List<String> errors = new ArrayList<>();
        try {
            Process b = pb.start();
            bpftrace = b;
            if (stopRequested) {
                interrupt(); // a stop that came while bpftrace was starting
            }
            Thread err = Thread.ofPlatform().name("faultline-bpftrace-stderr").daemon().start(() -> readErrors(b, errors));
            Thread watch = Thread.ofPlatform().name("faultline-capture-watch").daemon().start(() -> watch(b));
            lost = readEvents(b.getInputStream(), order, sink, linker, progress, t0);
            if (!began) {
                b.waitFor();
                err.join(1000);
                throw new CaptureException("bpftrace failed to attach: " + (errors.isEmpty() ? "exit " + b.exitValue() : errors.getLast()));
            }
            b.waitFor();
            err.join(1000);
            watch.interrupt();
            order.drain();
            linker.finish();
        } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
            throw new CaptureException("interrupted");
        } finally {
            Files.deleteIfExists(script);
            Process b = bpftrace;
            if (b != null && b.isAlive()) {
                b.destroyForcibly();
            }
            if (launched != null && launched.isAlive() && !began) {
                launched.destroyForcibly(); // still held before its first instruction: only SIGKILL ends it
            } else if (launched != null && launched.isAlive() && stopRequested) {
                launched.destroy();
            }
        }
        long nanos = System.nanoTime() - t0;
        Path file = sink.close(lost, nanos);
        Map<ResolveIoctl, Long> byKind = new EnumMap<>(ResolveIoctl.class);
        for (ResolveIoctl op : ResolveIoctl.values()) {
            if (linker.ioctls(op) > 0) {
                byKind.put(op, linker.ioctls(op));
            }
        }
        return new CaptureSummary(file, sink.rows, linker.faults(), linker.resolves(), byKind, linker.latency(), lost,
                order.late(), linker.outside(), nanos, endedBy);
    }

    /** The probes are attached: a launched command may start. */
    private void began() {
        began = true;
        beganNanos = System.nanoTime();
        if (launched != null) {
            signal(pid, "CONT");
        }
    }

    private ProcessMaps.Area areaAt(long address) {
        try {
            return ProcessMaps.read(pid).at(address);
        } catch (IOException e) {
            return null; // the process is gone: the region is taken as anon
        }
    }

    /** Reads bpftrace's stdout to its end; returns the events it reported lost. */
    private long readEvents(InputStream in, EventOrder order, Sink sink, FaultLinker linker, Consumer<Progress> progress,
                            long t0) throws IOException {
        byte[] buf = new byte[1 << 16];
        byte[] line = new byte[512];
        int len = 0;
        long lost = 0;
        CapturedEvent e = new CapturedEvent();
        long lastFlush = System.nanoTime();
        long lastProgress = lastFlush;
        int n;
        while ((n = in.read(buf)) > 0) {
            for (int i = 0; i < n; i++) {
                byte c = buf[i];
                if (c != '\n') {
                    if (len < line.length) {
                        line[len++] = c;
                    }
                    continue;
                }
                if (e.parse(line, len)) {
                    if (e.type == 'B') {
                        began(); // BEGIN runs once every probe is attached
                    } else if (e.type != 'T') {
                        lastArrival = System.nanoTime();
                    }
                    if (e.type == 'I' && e.words[0] == UffdAbi._UFFDIO_REGISTER && e.words[1] == 0) {
                        // what backs it, asked now: by the time the window lets it through the process may be gone
                        seenAreas.put(e.words[2], areaAt(e.words[2]));
                    }
                    order.add(e);
                } else {
                    lost += lostCount(line, len);
                }
                len = 0;
            }
            long now = System.nanoTime();
            if (now - lastFlush >= FLUSH_NANOS) {
                sink.flush();
                lastFlush = now;
            }
            if (now - lastProgress >= TimeUnit.SECONDS.toNanos(1)) {
                progress.accept(new Progress(sink.rows, linker.faults(), now - t0));
                lastProgress = now;
            }
        }
        return lost;
    }

    /** bpftrace's "Lost N events" line, else 0. */
    static long lostCount(byte[] line, int len) {
        String s = new String(line, 0, len, StandardCharsets.US_ASCII).strip();
        if (s.startsWith("Lost ") && s.endsWith(" events")) {
            try {
                return Long.parseLong(s.substring(5, s.length() - 7).strip());
            } catch (NumberFormatException ignored) {
                return 0;
            }
        }
        return 0;
    }

    private static void readErrors(Process b, List<String> errors) {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(b.getErrorStream(), StandardCharsets.UTF_8))) {
            String l;
            while ((l = r.readLine()) != null) {
                if (!l.contains("RLIMIT_MEMLOCK") && !l.isBlank()) { // the memlock warning is harmless (DESIGN.md §4)
                    synchronized (errors) {
                        errors.add(l.strip());
                    }
                }
            }
        } catch (IOException ignored) {
            // bpftrace is gone
        }
    }

    /**
     * Ends bpftrace when the process exits or the duration passes. The duration counts from the
     * probes' attaching, not from bpftrace's start: on a loaded machine bpftrace took over 1.5 s
     * to attach, and a 1.5 s capture ended before it had seen anything.
     */
    private void watch(Process b) {
        ProcessHandle target = ProcessHandle.of(pid).orElse(null);
        while (b.isAlive()) {
            boolean gone = target == null || !target.isAlive() || (launched != null && !launched.isAlive());
            if (gone) {
                // bpftrace may still be working through its perf buffers: end it once its output has gone quiet
                while (System.nanoTime() - lastArrival < QUIET_NANOS && sleepMillis(20)) {
                    Thread.onSpinWait();
                }
                interrupt();
                return;
            }
            long since = beganNanos;
            if (durationNanos > 0 && since != 0 && System.nanoTime() - since >= durationNanos) {
                endedBy = "duration";
                interrupt();
                return;
            }
            if (!sleepMillis(20)) {
                return;
            }
        }
    }

    /** SIGINT to bpftrace: it detaches and flushes its output. */
    private void interrupt() {
        Process b = bpftrace;
        if (b != null && b.isAlive()) {
            signal((int) b.pid(), "INT");
        }
    }

    private static void signal(int pid, String sig) {
        try {
            new ProcessBuilder("kill", "-" + sig, Integer.toString(pid)).start().waitFor();
        } catch (IOException e) {
            throw new CaptureException("cannot signal " + pid + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static boolean sleepMillis(long ms) {
        try {
            Thread.sleep(ms);
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private static boolean stopped(int pid) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            return stat.charAt(stat.lastIndexOf(')') + 2) == 'T';
        } catch (IOException e) {
            return false;
        }
    }

    private static String comm(int pid) {
        try {
            return Files.readString(Path.of("/proc/" + pid + "/comm")).strip();
        } catch (IOException e) {
            return "?";
        }
    }

    /** Checks bpftrace is installed, we may load BPF, and tracefs is there (mounting it as root). */
    static void checkTools() {
        if (!onPath("bpftrace")) {
            throw new CaptureException("bpftrace is not installed; passive capture needs it: apt-get install bpftrace");
        }
        if (!isRoot()) {
            throw new CaptureException("passive capture needs root (bpftrace loads BPF programs); run it as root or with sudo");
        }
        Path tracing = Path.of("/sys/kernel/tracing/events");
        if (!Files.isDirectory(tracing)) {
            try {
                new ProcessBuilder("mount", "-t", "tracefs", "nodev", "/sys/kernel/tracing").inheritIO().start().waitFor();
            } catch (IOException | InterruptedException ignored) {
                // reported below
            }
            if (!Files.isDirectory(tracing)) {
                throw new CaptureException("tracefs is not mounted and could not be: mount -t tracefs nodev /sys/kernel/tracing");
            }
        }
    }

    private static boolean onPath(String tool) {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(File.pathSeparator)) {
            if (Files.isExecutable(Path.of(dir, tool))) {
                return true;
            }
        }
        return false;
    }

    private static boolean isRoot() {
        try {
            for (String l : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (l.startsWith("Uid:")) {
                    return l.split("\\s+")[2].equals("0"); // the effective uid
                }
            }
        } catch (IOException ignored) {
            // no /proc: not Linux as we know it
        }
        return false;
    }

    /** Writes rows, creating the file at the first one so the header lists the regions known by then. */
    private final class Sink implements FaultLinker.Sink {
        private final List<RegionInfo> regions = new ArrayList<>();
        private TraceWriter writer;
        FaultLinker linker;
        long rows;

        @Override
        public void region(RegionInfo region) {
            regions.add(region);
            if (writer != null) {
                writer.addRegion(region);
            }
        }

        @Override
        public void row(TraceEvent row) throws IOException {
            if (writer == null) {
                TraceHeader h = TraceHeader.now("bpftrace", command, linker.features(), regions)
                        .with("pid", Integer.toString(pid))
                        .with("comm", comm(pid));
                writer = TraceWriter.create(out, h, compression);
            }
            writer.append(row);
            rows++;
        }

        void flush() throws IOException {
            if (writer != null) {
                writer.flush();
            }
        }

        Path close(long lost, long nanos) throws IOException {
            if (writer == null) {
                return null;
            }
            writer.putFooter(FOOTER_LOST, Long.toString(lost));
            writer.putFooter("duration_ns", Long.toString(nanos));
            writer.putFooter("faults", Long.toString(linker.faults()));
            writer.putFooter("resolves", Long.toString(linker.resolves()));
            writer.close();
            return out;
        }
    }
}
