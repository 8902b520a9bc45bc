package dev.faultline.collector.passive;

import dev.faultline.collector.touch.CompilerThreads;
import dev.faultline.core.abi.Libbpf;
import dev.faultline.core.abi.UffdAbi;
import dev.faultline.core.trace.Compression;
import dev.faultline.core.trace.RegionInfo;
import dev.faultline.core.trace.TraceEvent;
import dev.faultline.core.trace.TraceHeader;
import dev.faultline.core.trace.TraceWriter;
import dev.faultline.core.uffd.ResolveIoctl;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;

/**
 * Records the userfaultfd handler of another process, unmodified, with Faultline's BPF program on
 * tracepoints ({@link CaptureProgram}), into the same trace format the in-process recorder writes
 * ({@code source = ebpf}).
 *
 * <p>The program's records are read from its ring buffer every {@link #POLL_MILLIS} ms (every
 * {@link #EARLY_POLL_MILLIS} until the first registration), put back in
 * time order ({@link EventOrder}), linked into rows ({@link FaultLinker}) and written in Arrow
 * batches as they go, flushed at least every {@link #FLUSH_NANOS}: memory stays bounded and a
 * capture killed with SIGKILL leaves a file that yields every row up to the last flush (its
 * probes go with it: they are held by its file descriptors). With {@link Detail#SUMMARY} the
 * program links and counts in the kernel, and the file gets histogram rows
 * ({@link SummaryRows}) at the end and every interval instead of a row per fault.
 *
 * <p>The capture ends when the process exits (seen at once, through a pidfd), the duration
 * passes or {@link #stop} is called; the file is finished in every case, with the records the
 * program had to drop in the footer. A process with no userfaultfd yet is waited for: QEMU opens
 * its uffd only when postcopy starts. Meanwhile the first process it starts (at any depth) that
 * opens one becomes the {@link #target} — a handler run by a wrapper script — while the capture
 * still ends with the process named.
 */
public final class PassiveCapture {
    /** Rows reach the file at most this long after they were linked. */
    public static final long FLUSH_NANOS = TimeUnit.SECONDS.toNanos(1);
    /**
     * How often the ring buffer is read, in ms (the program never wakes its reader: that cost the
     * traced process). Seldom on purpose: on a small machine every wake-up of the capture lands on
     * a CPU a faulting thread may need, and a busy CPU takes an IPI to wake it where an idle one is
     * often still polling. 32 MiB of ring hold two seconds of records at 50,000 faults/s.
     */
    static final int POLL_MILLIS = 50;
    /**
     * …except until a registration is known (read from the ring, or there when attached), when it is
     * read this often: what backs a registered range, its memfd's name and the process's name are
     * read from /proc when its record arrives, and a handler that registers and is done within 50 ms
     * (the C floor here, now and then) was gone by then, its region left unnamed. No fault is taken
     * before a registration, so these wake-ups cost the traced process nothing.
     */
    static final int EARLY_POLL_MILLIS = 2;
    /**
     * How far out of order records may arrive: one ring buffer for all CPUs keeps them in the
     * order they were reserved, and a program reads its clock just before reserving, so records
     * are out of order by at most the time between the two on a preempted CPU.
     */
    static final long ORDER_WINDOW_NANOS = TimeUnit.MILLISECONDS.toNanos(50);
    /** How often the capture asks whether the handler spins, which decides its threads' policy ({@link CaptureThreads}). */
    static final long SPIN_CHECK_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
    /** Before attaching, the JIT's compiler threads are waited for until they have been idle this long… */
    static final long JIT_QUIET_WINDOW_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
    /** …or this long has passed. */
    static final long JIT_QUIET_MAX_NANOS = TimeUnit.SECONDS.toNanos(3);
    /** Footer key: the scheduling policy the capture's threads ended at ({@link CaptureThreads}: batch while the handler spun). */
    public static final String FOOTER_POLICY = "capture_policy";
    /** Footer key: reads of the traced uffds that found no message (a spinning handler makes many). */
    public static final String FOOTER_EMPTY_READS = "empty_reads";
    /** Footer key: reads of the traced uffds that returned messages. */
    public static final String FOOTER_FULL_READS = "full_reads";
    /** Footer key: records lost (the ring buffer was full, or a record could not be decoded). */
    public static final String FOOTER_LOST = "lost_events";
    /** Footer key: JSON object of the faulting threads' names by tid, as /proc told them. */
    public static final String FOOTER_THREADS = "threads";
    /** Header key: QEMU's vCPU thread ids (a JSON array, in vCPU order), from QMP. */
    public static final String KEY_VCPUS = "vcpus";
    /** Header key: the process named on the command line, when the uffd traced was a descendant's (a wrapper's child). */
    public static final String KEY_STARTED_BY = "started_by";
    /** Header key: events or summary. */
    public static final String KEY_DETAIL = "detail";
    /** The trace's {@code source}. */
    public static final String SOURCE = "ebpf";

    /** How much a capture keeps. */
    public enum Detail {
        /** A row per fault and per ioctl no fault waited on. */
        EVENTS,
        /** Latency histograms and counts per region × ioctl, kept in the kernel. */
        SUMMARY;

        public String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /**
     * How to capture.
     *
     * @param out            the trace to write
     * @param durationNanos  stop this long after the probes were attached (0: until the process exits or {@link #stop})
     * @param command        the command line, for the header
     * @param intervalNanos  summary mode: write the histograms this often too (0: at the end only)
     * @param qmp            a QEMU QMP socket to name the regions by RAMBlock (null: none)
     */
    public record Options(Path out, Compression compression, long durationNanos, String command, Detail detail,
                          long intervalNanos, Path qmp) {
    }

    /**
     * A progress report: rows written, faults linked (summary: counted), nanoseconds so far, whether a
     * uffd was seen, and the process traced ({@link #target}).
     */
    public record Progress(long rows, long faults, long nanos, boolean uffdSeen, int target) {
    }

    /** The process named: its exit ends the capture. */
    private final int pid;
    /**
     * The process whose uffd is traced, whose memory and descriptors are read: {@link #pid}, or the
     * descendant of it that opened a uffd while it had none ({@link CaptureRecord#FOLLOW}).
     */
    private volatile int target;
    private boolean reportNow;
    private final Process launched;
    private final Options options;
    private volatile boolean stopRequested;
    private volatile String endedBy = "process exited";
    private boolean uffdSeen;
    private final Map<Integer, String> threadNames = new TreeMap<>();
    private QemuInfo qemu;
    private final Map<Long, ProcessMaps.Area> registeredAreas = new java.util.HashMap<>();
    /** Whether a registration is known (seen made, or there at attach): the ring is read every {@link #POLL_MILLIS} from then on. */
    private boolean registered;
    private int lastThread;
    /** The traced process's thread names as last listed: a thread that exits before its records are read keeps its name. */
    private final Map<Integer, String> taskNames = new java.util.HashMap<>();
    private String comm;
    private Map<Integer, java.util.List<ProcessMaps.Area>> foreign;
    private long foreignScanned;
    private final UffdFds fds = new UffdFds();
    /** The capture's threads' policy at its end, and the handler's reads of its uffds (footer). */
    private String policy = "other";
    private long emptyReads;
    private long fullReads;

    private PassiveCapture(int pid, Process launched, Options options) {
        this.pid = pid;
        this.target = pid;
        this.launched = launched;
        this.options = options;
    }

    /**
     * Prepares a capture of the running process {@code pid}; one with no userfaultfd yet is waited for.
     *
     * @throws CaptureException (one line) if privilege or libbpf is missing, or there is no such process
     */
    public static PassiveCapture attach(int pid, Options options) {
        checkTools();
        if (!Files.isDirectory(Path.of("/proc/" + pid)) || exited(pid)) {
            throw new CaptureException("no process with pid " + pid);
        }
        return new PassiveCapture(pid, null, options);
    }

    /** util-linux's setpriv, which sets the parent-death signal of what it executes. */
    private static final Path SETPRIV = Path.of("/usr/bin/setpriv");

    /**
     * Starts {@code argv} stopped before its first instruction, to be traced from the start by
     * {@link #run} (which lets it go once the probes are attached), under setpriv --pdeathsig KILL
     * where the machine has it, so that it dies with this process. Its stdin, stdout and stderr are ours.
     */
    public static PassiveCapture launch(List<String> argv, Options options) {
        checkTools();
        List<String> cmd = new ArrayList<>();
        if (Files.isExecutable(SETPRIV)) {
            // the child dies with us (PR_SET_PDEATHSIG, kept across its exec): a capture killed with SIGKILL takes its
            // traced command with it rather than leaving it to pid 1
            cmd.addAll(List.of(SETPRIV.toString(), "--pdeathsig", "KILL"));
        }
        cmd.addAll(List.of("sh", "-c", "kill -STOP $$; exec \"$@\"", "sh"));
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
            sleepNanos(TimeUnit.MILLISECONDS.toNanos(2));
        }
        return new PassiveCapture(pid, p, options);
    }

    /** The process named (attached to, or started). */
    public int pid() {
        return pid;
    }

    /** The process whose uffd is traced: {@link #pid}, or the descendant of it that opened a uffd first. */
    public int target() {
        return target;
    }

    /** The traced process's command name as /proc gave it while it ran ("?" if it was gone before it was asked). */
    public String targetComm() {
        String c = comm;
        return c != null ? c : comm(target);
    }

    /** Whether the process has a userfaultfd open or memory registered now (else the capture will wait for one). */
    public boolean hasUffd() {
        try {
            return ProcessMaps.uffdFds(target).length > 0 || !ProcessMaps.read(target).registered().isEmpty();
        } catch (IOException e) {
            return false;
        }
    }

    /** Ends the capture (e.g. on Ctrl-C); {@link #run} then finishes the file and returns. */
    public void stop() {
        endedBy = "stopped";
        stopRequested = true;
    }

    /**
     * Captures until the process exits, the duration passes or {@link #stop}.
     *
     * @param progress called once when the probes are attached, then about once a second, on the calling thread
     * @throws CaptureException if the program cannot be loaded or attached (nothing is written then)
     */
    public CaptureSummary run(Consumer<Progress> progress) throws IOException {
        boolean summary = options.detail() == Detail.SUMMARY;
        Sink sink = new Sink();
        FaultLinker linker = new FaultLinker(sink, this::registeredArea);
        sink.linker = linker;
        EventOrder order = new EventOrder(ORDER_WINDOW_NANOS, linker);
        long t0 = System.nanoTime();
        CaptureProgram program;
        try {
            if (!summary) {
                CaptureWarmup.run(); // the JIT compiles the capture's path now, not beside the traced process
            }
            program = CaptureProgram.load(pid, summary, true);
            // what start-up and the warm-up queued is compiled before the probes go in: a C2 compilation of the
            // capture's path took up to a second here, on the CPUs of the process it traced
            CompilerThreads.awaitQuiet(JIT_QUIET_WINDOW_NANOS, JIT_QUIET_MAX_NANOS);
        } catch (CaptureException e) {
            releaseLaunched();
            throw e;
        }
        sink.program = program;
        SummaryRows summaryRows = summary ? new SummaryRows(program) : null;
        long lost;
        try (CaptureThreads yielding = CaptureThreads.yieldToTheTracedProcess(); ProcessExit exit = new ProcessExit(pid)) {
            seed(program, linker);
            program.attach();
            long began = System.nanoTime();
            listTasks();
            progress.accept(new Progress(0, 0, began - t0, uffdSeen, target)); // the first report: the probes are in
            if (launched != null) {
                signal(pid, "CONT");
            } else {
                for (int fd : uffdFds()) { // opened while the probes went in
                    program.markUffd(fd);
                    uffdSeen = true;
                }
            }
            long lastFlush = began;
            long lastProgress = began;
            long lastInterval = began;
            long lastSpinCheck = began;
            long seenEmpty = 0; // the program's read counts as last looked at
            long seenFull = 0;
            Consumer<CapturedEvent> reader = e -> {
                switch (e.type) {
                    case CaptureRecord.MSG -> {
                        if (!fds.isUffd(program, (int) e.words[7])) {
                            return; // read from a descriptor received over a socket that is not a uffd
                        }
                        noteThread(e.words[3] != 0 ? (int) e.words[3] : (int) e.words[5]);
                    }
                    case CaptureRecord.IOCTL -> {
                        if (e.words[0] == UffdAbi._UFFDIO_REGISTER && e.words[1] == 0) {
                            registering(program, (int) e.words[7], e.words[2]);
                        }
                    }
                    case CaptureRecord.UFFD -> uffdSeen = true;
                    case CaptureRecord.CLOSE -> fds.closed((int) e.words[0]);
                    case CaptureRecord.FDS -> received(program, linker, e);
                    case CaptureRecord.FOLLOW -> followed(program, (int) e.words[0]);
                    default -> { }
                }
                order.add(e);
            };
            boolean gone = false;
            while (true) {
                int n = program.poll(reader);
                long now = System.nanoTime();
                if (stopRequested) {
                    break;
                }
                if (options.durationNanos() > 0 && now - began >= options.durationNanos()) {
                    endedBy = "duration";
                    break;
                }
                if (gone || (launched != null && !launched.isAlive())) {
                    endedBy = "process exited";
                    break;
                }
                if (now - lastSpinCheck >= SPIN_CHECK_NANOS) { // does the handler spin? (CaptureThreads)
                    long empty = program.emptyReads();
                    long full = program.fullReads();
                    yielding.handlerReads(empty - seenEmpty, full - seenFull, now - lastSpinCheck);
                    seenEmpty = empty;
                    seenFull = full;
                    lastSpinCheck = now;
                }
                if (now - lastFlush >= FLUSH_NANOS) {
                    order.release(now - ORDER_WINDOW_NANOS);
                    sink.flush();
                    listTasks();
                    lastFlush = now;
                }
                if (summaryRows != null && options.intervalNanos() > 0 && now - lastInterval >= options.intervalNanos()) {
                    summaryRows.write(sink, lastInterval, now, false);
                    sink.flush();
                    lastInterval = now;
                }
                if (now - lastProgress >= TimeUnit.SECONDS.toNanos(1) || reportNow) {
                    reportNow = false;
                    if (summary) {
                        program.threads().keySet().forEach(this::noteThread);
                    }
                    long faults = summary ? summaryRows.faults() : linker.faults();
                    progress.accept(new Progress(sink.rows, faults, now - t0, uffdSeen, target));
                    lastProgress = now;
                }
                int wait = n >= 1024 ? 0 : registered ? POLL_MILLIS : EARLY_POLL_MILLIS;
                if (options.durationNanos() > 0) {
                    wait = (int) Math.max(0, Math.min(wait, (began + options.durationNanos() - now) / 1_000_000 + 1));
                }
                gone = exit.await(wait); // returns at once when the process exits: its last records are read next
            }
            policy = CaptureThreads.name(yielding.current());
            program.detach();
            emptyReads = program.emptyReads();
            fullReads = program.fullReads();
            program.poll(reader);
            order.drain();
            linker.finish();
            if (summaryRows != null) {
                summaryRows.write(sink, lastInterval, System.nanoTime(), true);
            }
            lost = program.lost() + program.malformed();
        } finally {
            program.close();
            if (launched != null && launched.isAlive() && stopRequested) {
                launched.destroy();
            }
        }
        long nanos = System.nanoTime() - t0;
        Path file = sink.close(lost, nanos, summaryRows);
        // a summary capture's own rows, plus any the linker wrote for faults on regions the program learnt of late
        Map<ResolveIoctl, Long> byKind = new EnumMap<>(ResolveIoctl.class);
        for (ResolveIoctl op : ResolveIoctl.values()) {
            long count = (summaryRows != null ? summaryRows.calls(op) : 0) + linker.ioctls(op);
            if (count > 0) {
                byKind.put(op, count);
            }
        }
        org.HdrHistogram.Histogram latency = linker.latency().copy();
        org.HdrHistogram.Histogram queue = linker.queue().copy();
        org.HdrHistogram.Histogram service = linker.service().copy();
        if (summaryRows != null) {
            latency.add(summaryRows.latency());
            queue.add(summaryRows.queue());
            service.add(summaryRows.service());
        }
        return new CaptureSummary(file, sink.rows, linker.faults() + (summary ? summaryRows.faults() : 0),
                linker.resolves() + (summary ? summaryRows.resolves() : 0), byKind, latency, queue, service, lost, order.late(),
                linker.outside(), nanos, endedBy, uffdSeen, options.detail());
    }

    /** What the process had registered and open before the probes went in. */
    private void seed(CaptureProgram program, FaultLinker linker) throws IOException {
        ProcessMaps maps;
        try {
            maps = ProcessMaps.read(pid);
        } catch (NoSuchFileException e) {
            throw new CaptureException("process " + pid + " exited before it could be attached to");
        }
        for (int child : descendants(pid)) { // started before the probes went in: followed as those started after
            program.addFamily(child);
        }
        addHugeAreas(program, maps);
        for (ProcessMaps.Area a : maps.registered()) {
            int slot = program.addRegion(a.start(), a.end(), Long.numberOfTrailingZeros(a.backend().pageSize()));
            linker.known(slot, a.start(), a.end(), a.backend(), a.modes(), FaultLinker.mappingName(a.path()));
        }
        for (int fd : uffdFds()) {
            program.markUffd(fd);
            uffdSeen = true;
        }
        registered = !maps.registered().isEmpty(); // attached to a handler at work: its faults are under way
        uffdSeen |= registered;
        if (options.qmp() != null && !maps.registered().isEmpty()) {
            qemu = QemuInfo.query(options.qmp());
        }
    }

    /**
     * A descendant of the traced process opened a uffd while the traced process had none (a handler
     * started by a wrapper script): the program traces it from that moment on; here its memory is
     * read from now on, and hugetlb mappings it made before the program saw it are told to the program.
     */
    private void followed(CaptureProgram program, int child) {
        target = child;
        reportNow = true; // the caller hears of it at once, not at the next second
        fds.forget();
        comm = comm(child);
        taskNames.clear();
        listTasks();
        try {
            addHugeAreas(program, ProcessMaps.read(child));
        } catch (IOException e) {
            // gone already: its records up to its exit are linked as they came
        }
    }

    /** Tells the program of every hugetlb mapping in {@code maps}, so registrations there get their page size. */
    private static void addHugeAreas(CaptureProgram program, ProcessMaps maps) {
        for (ProcessMaps.Area a : maps.areas()) {
            if (a.backend().isHugetlb()) {
                program.addHugeArea(a.start(), a.end(), Long.numberOfTrailingZeros(a.pageSize()));
            }
        }
    }

    /** The processes {@code parent} started and theirs, as /proc lists them now. */
    private static List<Integer> descendants(int parent) {
        List<Integer> out = new ArrayList<>();
        java.util.ArrayDeque<Integer> todo = new java.util.ArrayDeque<>(List.of(parent));
        while (!todo.isEmpty() && out.size() < 4096) {
            int p = todo.pop();
            try (var tasks = Files.newDirectoryStream(Path.of("/proc/" + p + "/task"))) {
                for (Path task : tasks) {
                    for (String child : Files.readString(task.resolve("children")).split("\\s+")) {
                        if (!child.isEmpty()) {
                            int c = Integer.parseInt(child);
                            out.add(c);
                            todo.push(c);
                        }
                    }
                }
            } catch (IOException | NumberFormatException e) {
                // exited while listed
            }
        }
        return out;
    }

    private int[] uffdFds() {
        try {
            return ProcessMaps.uffdFds(target);
        } catch (IOException e) {
            return new int[0];
        }
    }

    /**
     * Descriptors received over a socket: the uffds among them are watched from now on, and the
     * sender's registered areas become regions (its faults are in its memory, not the traced
     * process's). In summary mode the program needs them in its region table to link there.
     */
    private void received(CaptureProgram program, FaultLinker linker, CapturedEvent e) {
        boolean any = false;
        for (int i = 0; i < (int) e.words[0]; i++) {
            int fd = (int) e.words[1 + i];
            if (fd >= 0 && fds.isUffd(program, fd)) {
                program.markUffd(fd);
                uffdSeen = true;
                any = true;
            }
        }
        if (any) {
            foreign = ProcessMaps.registeredElsewhere(target);
            foreignScanned = System.nanoTime();
            if (foreign.size() == 1 && program.summary()) {
                for (ProcessMaps.Area a : foreign.values().iterator().next()) {
                    int slot = program.addRegion(a.start(), a.end(), Long.numberOfTrailingZeros(a.backend().pageSize()));
                    linker.known(slot, a.start(), a.end(), a.backend(), a.modes(), FaultLinker.mappingName(a.path()));
                }
            }
        }
    }

    /**
     * A registration has just been read from the ring: what backs it is asked now, while the process
     * is there (the linker sees it only after the ordering window), and the program learns its page
     * size at once, so that faults on hugetlb pages are keyed by their huge page from the start.
     */
    private void registering(CaptureProgram program, int slot, long start) {
        ProcessMaps.Area a = areaAt(start);
        registeredAreas.put(start, a);
        registered = true;
        if (a != null) {
            program.setPageShift(slot, Long.numberOfTrailingZeros(a.backend().pageSize()));
        }
        if (comm == null) {
            comm = comm(target);
        }
        if (options.qmp() != null && qemu == null) {
            qemu = QemuInfo.query(options.qmp());
        }
    }

    private ProcessMaps.Area registeredArea(long start) {
        return registeredAreas.containsKey(start) ? registeredAreas.get(start) : areaAt(start);
    }

    private ProcessMaps.Area areaAt(long address) {
        try {
            return ProcessMaps.read(target).at(address);
        } catch (IOException e) {
            return null; // the process is gone: the mapping it was seen making decides
        }
    }

    /**
     * The one registered area holding {@code address} among the other processes with a uffd open,
     * for a handler that serves a uffd it received (Firecracker's page server): looked for when a
     * uffd arrives over a socket and again, at most twice a second, for an address in no region.
     * Null when none or more than one process has such an area (whose memory it is would be a guess).
     */
    private ProcessMaps.Area foreignArea(long address) {
        long now = System.nanoTime();
        if (foreign == null || now - foreignScanned > 500_000_000L && !foreignHolds(address)) {
            foreign = ProcessMaps.registeredElsewhere(target);
            foreignScanned = now;
        }
        ProcessMaps.Area found = null;
        for (java.util.List<ProcessMaps.Area> areas : foreign.values()) {
            for (ProcessMaps.Area a : areas) {
                if (a.contains(address)) {
                    if (found != null) {
                        return null;
                    }
                    found = a;
                }
            }
        }
        return found;
    }

    private boolean foreignHolds(long address) {
        return foreign.values().stream().flatMap(java.util.List::stream).anyMatch(a -> a.contains(address));
    }

    /**
     * Which of the process's descriptors the program decodes are uffds: all it learnt itself are,
     * one received over a socket only if /proc says so (asked once; a new descriptor with the same
     * number after a close is asked again).
     */
    private final class UffdFds {
        private static final byte UNKNOWN = 0;
        private static final byte YES = 1;
        private static final byte NO = 2;
        private byte[] known = new byte[1024];

        boolean isUffd(CaptureProgram program, int fd) {
            if (fd < 0) {
                return true; // not a received descriptor's record
            }
            if (fd >= known.length) {
                known = java.util.Arrays.copyOf(known, Math.max(fd + 1, known.length * 2));
            }
            if (known[fd] == UNKNOWN) {
                boolean uffd;
                try {
                    uffd = Files.readSymbolicLink(Path.of("/proc/" + target + "/fd/" + fd)).toString().contains("[userfaultfd]");
                } catch (IOException closed) {
                    uffd = true; // closed already: what the program decoded came from a uffd it knew
                }
                known[fd] = uffd ? YES : NO;
                if (!uffd) {
                    program.unmarkUffd(fd);
                }
            }
            return known[fd] == YES;
        }

        /** Forgets every answer: the descriptors are another process's now. */
        void forget() {
            java.util.Arrays.fill(known, UNKNOWN);
        }

        void closed(int fd) {
            if (fd >= 0 && fd < known.length) {
                known[fd] = UNKNOWN;
            }
        }
    }

    /** Remembers the name of a faulting thread the first time it is seen, while it still runs. */
    private void noteThread(int tid) {
        if (tid != 0 && tid != lastThread) {
            lastThread = tid;
            threadNames.computeIfAbsent(tid, this::threadName);
        }
    }

    private void releaseLaunched() {
        if (launched != null && launched.isAlive()) {
            launched.destroyForcibly(); // still held before its first instruction: only SIGKILL ends it
        }
    }

    /** Whether {@code pid} is gone or a zombie (exited, not yet reaped by its parent). */
    static boolean exited(int pid) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            char state = stat.charAt(stat.lastIndexOf(')') + 2);
            return state == 'Z' || state == 'X';
        } catch (IOException | IndexOutOfBoundsException e) {
            return true;
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

    private static void sleepNanos(long nanos) {
        LockSupport.parkNanos(nanos);
    }

    private static boolean stopped(int pid) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            return stat.charAt(stat.lastIndexOf(')') + 2) == 'T';
        } catch (IOException e) {
            return false;
        }
    }

    private String threadName(int tid) {
        try {
            return Files.readString(Path.of("/proc/" + target + "/task/" + tid + "/comm")).strip();
        } catch (IOException e) {
            return taskNames.get(tid); // gone already: its name as last listed, if it was
        }
    }

    /** Lists the traced process's threads and their names (at attach and at each flush: a few small files). */
    private void listTasks() {
        try (var tasks = Files.newDirectoryStream(Path.of("/proc/" + target + "/task"))) {
            for (Path task : tasks) {
                try {
                    taskNames.put(Integer.parseInt(task.getFileName().toString()), Files.readString(task.resolve("comm")).strip());
                } catch (IOException | NumberFormatException e) {
                    // exited while listed
                }
            }
        } catch (IOException e) {
            // the process is gone: the names listed before stand
        }
    }

    private static String comm(int pid) {
        try {
            return Files.readString(Path.of("/proc/" + pid + "/comm")).strip();
        } catch (IOException e) {
            return "?";
        }
    }

    /** Checks we may load BPF (root), libbpf is there and tracefs is mounted (mounting it as root). */
    static void checkTools() {
        if (!isRoot()) {
            throw new CaptureException("passive capture needs root (it loads a BPF program); run it as root or with sudo");
        }
        if (!Libbpf.available()) {
            throw new CaptureException("passive capture needs libbpf: " + Libbpf.unavailableReason());
        }
        CaptureProgram.image(); // says how to rebuild when the jar has no program
        CaptureThreads.policy(System.getenv(CaptureThreads.POLICY_ENV)); // a misspelt policy is refused before anything starts
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
    final class Sink implements FaultLinker.Sink {
        private final List<RegionInfo> regions = new ArrayList<>();
        private TraceWriter writer;
        FaultLinker linker;
        CaptureProgram program;
        long rows;

        @Override
        public void region(RegionInfo region) {
            regions.add(region);
            if (writer != null) {
                writer.addRegion(region);
            }
        }

        @Override
        public String nameFor(long start, long length) {
            return qemu == null ? null : qemu.claim(length);
        }

        @Override
        public ProcessMaps.Area foreign(long address) {
            return foreignArea(address);
        }

        @Override
        public void row(TraceEvent row) throws IOException {
            open();
            writer.append(row);
            rows++;
        }

        void open() throws IOException {
            if (writer == null) {
                TraceHeader h = TraceHeader.now(SOURCE, options.command(), linker.features(), regions)
                        .with("target", Integer.toString(target))
                        .with("comm", targetComm())
                        .with(KEY_DETAIL, options.detail().label());
                if (target != pid) {
                    h = h.with(KEY_STARTED_BY, Integer.toString(pid));
                }
                if (qemu != null && qemu.error() != null) {
                    h = h.with("qmp", qemu.error());
                }
                if (qemu != null && !qemu.vcpus().isEmpty()) {
                    h = h.with(KEY_VCPUS, qemu.vcpus().toString().replace(" ", ""));
                }
                writer = TraceWriter.create(options.out(), h, options.compression(), false,
                        options.detail() == Detail.SUMMARY);
            }
        }

        void flush() throws IOException {
            if (writer != null) {
                writer.flush();
            }
        }

        /** Finishes the file: a capture that saw nothing still writes one, a valid trace of no rows with its footer. */
        Path close(long lost, long nanos, SummaryRows summary) throws IOException {
            open();
            writer.putFooter(FOOTER_LOST, Long.toString(lost));
            writer.putFooter("duration_ns", Long.toString(nanos));
            writer.putFooter("faults", Long.toString(linker.faults() + (summary != null ? summary.faults() : 0)));
            writer.putFooter("resolves", Long.toString(linker.resolves() + (summary != null ? summary.resolves() : 0)));
            writer.putFooter("ended_by", endedBy);
            writer.putFooter(FOOTER_POLICY, policy);
            writer.putFooter(FOOTER_EMPTY_READS, Long.toString(emptyReads));
            writer.putFooter(FOOTER_FULL_READS, Long.toString(fullReads));
            if (summary != null) {
                writer.putFooter("unresolved_faults", Long.toString(summary.unresolved()));
                writer.putFooter("unlinked_faults", Long.toString(summary.unlinked()));
            }
            writer.putFooter(FOOTER_THREADS, threadsJson());
            writer.close();
            return options.out();
        }

        /** A thread a summary row names. */
        void thread(int tid) {
            noteThread(tid);
        }

        TraceWriter writer() throws IOException {
            open();
            return writer;
        }
    }

    private String threadsJson() throws IOException {
        return new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(threadNames);
    }
}
