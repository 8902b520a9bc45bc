package dev.faultline.collector.passive;

import dev.faultline.core.abi.BpfAbi;
import dev.faultline.core.abi.Libc;
import dev.faultline.core.bpf.BpfException;
import dev.faultline.core.bpf.BpfMap;
import dev.faultline.core.bpf.BpfObject;
import dev.faultline.core.bpf.BpfRingBuffer;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The capture program ({@code capture.bpf.c}, compiled into the jar as {@code capture.bpf.o})
 * loaded for one process: its configuration, the regions and huge-page areas known before the
 * probes went in, the records it hands over through its ring buffer, and — in summary mode — the
 * histograms and counts it keeps in its maps.
 *
 * <p>The map layouts here mirror the C structs ({@code struct config}, {@code struct region},
 * {@code struct huge_area}, {@code struct blocked}); {@link CaptureRecord} mirrors the records.
 * Lifecycle: {@link #load}, {@link #addRegion}/{@link #addHugeArea}/{@link #markUffd}, {@link #attach},
 * {@link #poll} until done, {@link #close}. One thread uses it.
 */
public final class CaptureProgram implements AutoCloseable {
    /** The object file's resource name, beside this class. */
    static final String OBJECT = "capture.bpf.o";
    /** Ring buffer bytes: at 50,000 faults/s (two records, 160 bytes each) a 10 ms poll gap needs 80 KiB. */
    static final int RING_BYTES = 32 << 20;

    public static final int MAX_REGIONS = 64;
    public static final int MAX_HUGE_AREAS = 64;
    public static final int HIST_REGIONS = 32;
    public static final int HIST_OPS = 9;
    public static final int HIST_MEASURES = 3;
    public static final int HIST_BUCKETS = 1024;
    public static final int SUB_BITS = 5;
    public static final int COUNTERS = 8;

    /** Measures of the summary histograms, by index. */
    public static final int M_LATENCY = 0;
    public static final int M_QUEUE = 1;
    public static final int M_SERVICE = 2;
    /** Counters per region and op, by index (capture.bpf.c's C_*). */
    public static final int C_FAULTS = 0;
    public static final int C_FAULTS_TIMED = 1;
    public static final int C_RESOLVES = 2;
    public static final int C_RESOLVE_BYTES = 3;
    public static final int C_ERRORS = 4;
    public static final int C_CALLS = 5;
    public static final int C_UNLINKED = 6;

    private static final int CONFIG_SUMMARY = 1;
    private static final int CONFIG_FOLLOW = 2;
    /** Offsets in {@code struct config} of the regions' and huge areas' counts. */
    private static final int CONFIG_REGIONS = 8;
    private static final int CONFIG_HUGE_AREAS = 12;
    /** Where the kernel describes sched_process_fork's record (child_pid moved between 6.1 and 6.18). */
    private static final Path FORK_FORMAT = Path.of("/sys/kernel/tracing/events/sched/sched_process_fork/format");
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT;
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG;

    private final BpfObject object;
    private final boolean summary;
    private final Arena arena = Arena.ofConfined();
    private final MemorySegment key = arena.allocate(8, 8);
    private final MemorySegment value = arena.allocate(256, 8);
    private final BpfMap config;
    private final BpfMap regions;
    private final BpfMap hugeAreas;
    private final BpfMap uffds;
    private final BpfMap family;
    private final BpfRingBuffer ring;
    private final RecordDecoder decoder = new RecordDecoder();
    private long histogramsAddress;
    private long countersAddress;

    private CaptureProgram(BpfObject object, int tgid, boolean summary, boolean follow) {
        this.object = object;
        this.summary = summary;
        config = object.map("config");
        regions = object.map("regions");
        hugeAreas = object.map("huge_areas");
        uffds = object.map("uffds");
        family = object.map("family");
        ring = new BpfRingBuffer(object.map("records"), RING_BYTES);
        writeConfig(tgid, follow ? forkChildPidOffset() : 0);
    }

    /**
     * Loads the program for process {@code tgid}; nothing runs until {@link #attach}.
     *
     * @param summary keep histograms in the kernel instead of handing over a record per fault
     * @param follow  while the process has no uffd, let the first of its descendants that opens one
     *                become the traced process ({@link CaptureRecord#FOLLOW}); {@link #addFamily} names
     *                the descendants it has already
     * @throws CaptureException in one line when the build has no program, libbpf is missing or the kernel refuses it
     */
    public static CaptureProgram load(int tgid, boolean summary, boolean follow) {
        byte[] image = image();
        BpfObject o;
        try {
            o = BpfObject.open(OBJECT, image, Map.of("records", RING_BYTES));
        } catch (BpfException e) {
            throw new CaptureException("passive capture cannot start: " + e.getMessage());
        }
        try {
            return new CaptureProgram(o, tgid, summary, follow);
        } catch (RuntimeException e) {
            o.close();
            throw e;
        }
    }

    /**
     * The compiled program from the jar, or from the file {@code FAULTLINE_CAPTURE_PROGRAM} names
     * (for whoever works on capture.bpf.c: a variant is measured without rebuilding the jar).
     */
    static byte[] image() {
        String override = System.getenv("FAULTLINE_CAPTURE_PROGRAM");
        if (override != null && !override.isBlank()) {
            try {
                return Files.readAllBytes(Path.of(override));
            } catch (IOException e) {
                throw new CaptureException("cannot read FAULTLINE_CAPTURE_PROGRAM " + override + ": " + e.getMessage(), e);
            }
        }
        try (InputStream in = CaptureProgram.class.getResourceAsStream(OBJECT)) {
            if (in == null) {
                throw new CaptureException("this Faultline was built without its BPF capture program (clang was missing at build "
                        + "time): apt-get install clang libbpf-dev, then rebuild (rm cli/target/faultline.jar; ./faultline --version)");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new CaptureException("cannot read the BPF capture program from the jar: " + e.getMessage(), e);
        }
    }

    private void writeConfig(int tgid, int forkChildPid) {
        key.set(INT, 0, 0);
        value.set(INT, 0, tgid);
        value.set(INT, 4, (summary ? CONFIG_SUMMARY : 0) | (forkChildPid > 0 ? CONFIG_FOLLOW : 0));
        value.set(INT, CONFIG_REGIONS, 0);
        value.set(INT, CONFIG_HUGE_AREAS, 0);
        value.set(INT, 16, forkChildPid);
        value.set(INT, 20, 0);
        config.update(key, value, BpfAbi.BPF_ANY);
    }

    /**
     * The offset of {@code child_pid} in sched_process_fork's record, from its format file, or 0
     * (the capture then follows no descendant) where tracefs does not say.
     */
    static int forkChildPidOffset() {
        try {
            for (String line : Files.readAllLines(FORK_FORMAT)) {
                if (line.contains(" child_pid;")) {
                    java.util.regex.Matcher m = java.util.regex.Pattern.compile("offset:(\\d+);").matcher(line);
                    return m.find() ? Integer.parseInt(m.group(1)) : 0;
                }
            }
        } catch (IOException | NumberFormatException e) {
            // no tracefs format: nothing is followed
        }
        return 0;
    }

    /** A process the traced one started before the probes went in (under {@code follow}: it may be adopted). */
    public void addFamily(int tgid) {
        key.set(INT, 0, tgid);
        value.set(INT, 0, 1);
        family.update(key, value, BpfAbi.BPF_ANY);
    }

    /** Puts a region registered before the capture began into the next slot; returns the slot (-1 when full). */
    public int addRegion(long start, long end, int pageShift) {
        int slot = reserve(CONFIG_REGIONS, MAX_REGIONS);
        if (slot >= 0) {
            writeRegion(slot, start, end, pageShift, true);
        }
        return slot;
    }

    /**
     * Takes the next slot of a table whose count is the config's int at {@code offset}: the count
     * the program keeps, since once attached it takes slots of its own (a REGISTER, a hugetlb mmap).
     * A slot counted before it is written reads as empty (an array map's zeroes) and matches nothing.
     * Returns -1 when the table is full.
     */
    private int reserve(int offset, int max) {
        readConfigInto();
        int slot = value.get(INT, offset);
        if (slot >= max) {
            return -1;
        }
        value.set(INT, offset, slot + 1);
        config.update(key, value, BpfAbi.BPF_ANY);
        return slot;
    }

    private void readConfigInto() {
        key.set(INT, 0, 0);
        config.lookup(key, value);
    }

    private void writeRegion(int slot, long start, long end, int pageShift, boolean live) {
        key.set(INT, 0, slot);
        value.set(LONG, 0, start);
        value.set(LONG, 8, end);
        value.set(INT, 16, pageShift);
        value.set(INT, 20, live ? 1 : 0);
        regions.update(key, value, BpfAbi.BPF_ANY);
    }

    /**
     * Tells the program the page size of region {@code slot} (the kernel side assumes 4 KiB for
     * memory it did not see mapped as hugetlb), once user space has read it from smaps.
     */
    public void setPageShift(int slot, int pageShift) {
        if (slot < 0 || slot >= MAX_REGIONS) {
            return;
        }
        key.set(INT, 0, slot);
        if (regions.lookup(key, value) && value.get(INT, 16) != pageShift) {
            value.set(INT, 16, pageShift);
            regions.update(key, value, BpfAbi.BPF_ANY);
        }
    }

    /**
     * A hugetlb mapping the program did not see made (before the capture began, or before a followed
     * process became the traced one), so registrations inside it get its page size. One the table
     * holds already (the program saw a descendant map it) is not added twice.
     */
    public void addHugeArea(long start, long end, int pageShift) {
        readConfigInto();
        int count = Math.min(value.get(INT, CONFIG_HUGE_AREAS), MAX_HUGE_AREAS);
        for (int i = 0; i < count; i++) {
            key.set(INT, 0, i);
            if (hugeAreas.lookup(key, value) && value.get(LONG, 0) == start && value.get(LONG, 8) == end) {
                return;
            }
        }
        int slot = reserve(CONFIG_HUGE_AREAS, MAX_HUGE_AREAS);
        if (slot < 0) {
            return;
        }
        key.set(INT, 0, slot);
        value.set(LONG, 0, start);
        value.set(LONG, 8, end);
        value.set(INT, 16, pageShift);
        value.set(INT, 20, 0);
        hugeAreas.update(key, value, BpfAbi.BPF_ANY);
    }

    /** Marks {@code fd} as one of the process's uffds (open before the capture, or received over a socket). */
    public void markUffd(int fd) {
        key.set(INT, 0, fd);
        value.set(INT, 0, 1);
        uffds.update(key, value, BpfAbi.BPF_ANY);
    }

    /** Forgets {@code fd}: a descriptor received over a socket that is not a uffd after all. */
    public void unmarkUffd(int fd) {
        key.set(INT, 0, fd);
        uffds.delete(key);
    }

    /**
     * Attaches the probes: from now on the process's uffd traffic is seen.
     *
     * @throws CaptureException if a tracepoint cannot be attached
     */
    public void attach() {
        try {
            object.attachAll();
        } catch (BpfException e) {
            throw new CaptureException("passive capture cannot start: " + e.getMessage());
        }
    }

    /** Detaches the probes (the maps stay readable until {@link #close}). */
    public void detach() {
        object.detachAll();
    }

    /** Whether this program keeps summaries instead of per-fault records. */
    public boolean summary() {
        return summary;
    }

    /**
     * Hands every record written so far to {@code sink}, decoded (the event is reused after each call).
     *
     * @return records handed over
     */
    public int poll(Consumer<CapturedEvent> sink) {
        return decoder.poll(ring, sink);
    }

    /** Records the reader could not decode (a program and a Faultline that disagree). */
    public long malformed() {
        return decoder.malformed();
    }

    /** Records the program dropped because the ring buffer was full. */
    public long lost() {
        return perCpuSum("lost", 0);
    }

    /** Reads of a traced uffd so far that found no message (EAGAIN): a handler that polls without sleeping makes many. */
    public long emptyReads() {
        return perCpuSum("uffd_reads", 0);
    }

    /** Reads of a traced uffd so far that returned messages. */
    public long fullReads() {
        return perCpuSum("uffd_reads", 1);
    }

    /** The sum over the CPUs of entry {@code index} of the per-CPU array map {@code name}. */
    private long perCpuSum(String name, int index) {
        int cpus = possibleCpus();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment values = a.allocate(8L * cpus, 8);
            key.set(INT, 0, index);
            if (!object.map(name).lookup(key, values)) {
                return 0;
            }
            long n = 0;
            for (int i = 0; i < cpus; i++) {
                n += values.getAtIndex(LONG, i);
            }
            return n;
        }
    }

    /** Summary mode: the count in bucket {@code bucket} of (region slot, ioctl nr, measure). */
    public long histogram(int slot, int op, int measure, int bucket) {
        if (histogramsAddress == 0) {
            histogramsAddress = object.map("histograms").mmap(0, 8L * HIST_REGIONS * HIST_OPS * HIST_MEASURES * HIST_BUCKETS, false);
        }
        long index = (((long) Math.min(slot, HIST_REGIONS - 1) * HIST_OPS + op) * HIST_MEASURES + measure) * HIST_BUCKETS + bucket;
        return MemorySegment.ofAddress(histogramsAddress + 8 * index).reinterpret(8).get(LONG, 0);
    }

    /** Summary mode: counter {@code counter} (C_*) of (region slot, ioctl nr). */
    public long counter(int slot, int op, int counter) {
        if (countersAddress == 0) {
            countersAddress = object.map("counters").mmap(0, 8L * HIST_REGIONS * HIST_OPS * COUNTERS, false);
        }
        long index = ((long) Math.min(slot, HIST_REGIONS - 1) * HIST_OPS + op) * COUNTERS + counter;
        return MemorySegment.ofAddress(countersAddress + 8 * index).reinterpret(8).get(LONG, 0);
    }

    /** Summary mode: per faulting thread, {faults, read-to-resolve ns, fault-to-resolve ns, faults timed}. */
    public Map<Integer, long[]> threads() {
        Map<Integer, long[]> out = new java.util.TreeMap<>();
        BpfMap threads = object.map("threads");
        try (Arena a = Arena.ofConfined()) {
            MemorySegment k = a.allocate(4, 4);
            MemorySegment next = a.allocate(4, 4);
            MemorySegment v = a.allocate(32, 8);
            MemorySegment from = MemorySegment.NULL;
            while (threads.nextKey(from, next)) {
                if (threads.lookup(next, v)) {
                    out.put(next.get(INT, 0), new long[] {v.get(LONG, 0), v.get(LONG, 8), v.get(LONG, 16), v.get(LONG, 24)});
                }
                k.copyFrom(next);
                from = k;
            }
        }
        return out;
    }

    /** Summary mode: faults read and never resolved (still waiting when the capture ended). */
    public long pendingFaults() {
        BpfMap pendings = object.map("pendings");
        long n = 0;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment k = a.allocate(8, 8);
            MemorySegment next = a.allocate(8, 8);
            MemorySegment v = a.allocate(8 + 24L * 4, 8);
            MemorySegment from = MemorySegment.NULL;
            while (pendings.nextKey(from, next)) {
                if (pendings.lookup(next, v)) {
                    n += Math.min(4, v.get(INT, 4));
                }
                k.copyFrom(next);
                from = k;
            }
        }
        return n;
    }

    /** The value a summary bucket stands for: exact below 32 ns, else the middle of its range. */
    public static long bucketValue(int bucket) {
        int sub = 1 << SUB_BITS;
        if (bucket < sub) {
            return bucket;
        }
        int octave = bucket / sub - 1;            // msb - SUB_BITS
        long low = (long) (sub + bucket % sub) << octave;
        return low + ((1L << octave) >> 1);
    }

    static int possibleCpus() {
        try {
            String s = Files.readString(Path.of("/sys/devices/system/cpu/possible")).strip();
            int max = 0;
            for (String part : s.split(",")) {
                String[] r = part.split("-");
                max = Math.max(max, Integer.parseInt(r[r.length - 1]));
            }
            return max + 1;
        } catch (IOException | NumberFormatException e) {
            return Runtime.getRuntime().availableProcessors();
        }
    }

    @Override
    public void close() {
        if (histogramsAddress != 0) {
            Libc.munmap(histogramsAddress, 8L * HIST_REGIONS * HIST_OPS * HIST_MEASURES * HIST_BUCKETS);
        }
        if (countersAddress != 0) {
            Libc.munmap(countersAddress, 8L * HIST_REGIONS * HIST_OPS * COUNTERS);
        }
        ring.close();
        object.close();
        arena.close();
    }
}
