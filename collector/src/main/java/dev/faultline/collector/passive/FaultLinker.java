package dev.faultline.collector.passive;

import dev.faultline.core.abi.MmanAbi;
import dev.faultline.core.abi.UffdAbi;
import dev.faultline.core.region.Backend;
import dev.faultline.core.trace.EventKind;
import dev.faultline.core.trace.RegionInfo;
import dev.faultline.core.trace.TraceEvent;
import dev.faultline.core.uffd.ResolveIoctl;
import org.HdrHistogram.Histogram;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.LongFunction;

/**
 * Turns a traced process's observations, in time order, into trace rows: each fault message comes
 * with its fault entry (page_fault_user on its page) and is linked to the ioctl that woke it (the
 * first UFFDIO_* call covering its page to finish after it was read, from any thread; a call with
 * a DONTWAKE mode places the page but the fault waits on for the WAKE, whose exit ends it); an
 * ioctl no fault was waiting on becomes a RESOLVE row. Registrations become regions.
 *
 * <p>Regions get their trace ids when the first row needs one: then every registered region still
 * live is numbered, in registration order, and a registration undone before any row named it (a
 * handler probing what the kernel supports, as QEMU does with a 4 KiB test area) is left out.
 * Names come from the sink ({@link Sink#nameFor}: QEMU's RAMBlock names), else from the mapping (a
 * memfd's name, a file's path), else {@code region<id>}.
 *
 * <p>Invariants: every fault message read yields exactly one PAGEFAULT row (faults never
 * resolved are written at {@link #finish} with ioctl NONE); rows are handed to the sink in the
 * order they are complete; objects are pooled, so a fault costs no allocation.
 */
public final class FaultLinker implements Consumer<CapturedEvent> {
    /** Where rows and newly numbered regions go. */
    public interface Sink {
        /** A region that rows may name from now on. */
        void region(RegionInfo region) throws IOException;

        /** One finished row (reused after the call). */
        void row(TraceEvent row) throws IOException;

        /** A registration was seen: the capture program's region {@code slot} is {@code backend}. */
        default void registered(int slot, long start, long length, Backend backend) {
        }

        /** A name for a region being numbered, better than its mapping's (QEMU's RAMBlock name), or null. */
        default String nameFor(long start, long length) {
            return null;
        }

        /**
         * The registered area holding {@code address} in another process, when the traced one
         * serves a uffd it received (its faults are in the sender's memory), or null.
         */
        default ProcessMaps.Area foreign(long address) {
            return null;
        }
    }

    /** A registered range. */
    private static final class Tracked {
        final long start;
        final long end;
        final long pageSize;
        final Backend backend;
        final long modes;
        final int slot;
        final String name;
        boolean live = true;
        int id = -1;

        Tracked(int slot, long start, long end, Backend backend, long modes, String name) {
            this.slot = slot;
            this.start = start;
            this.end = end;
            this.pageSize = backend.pageSize();
            this.backend = backend;
            this.modes = modes;
            this.name = name;
        }
    }

    private static final class Pending {
        long address;
        int flags;
        int tid;
        Tracked region;
        long tFault;
        long tRead;
        // set once an ioctl with a DONTWAKE mode placed the page: the fault then waits for its wake
        ResolveIoctl placedBy;
        long placedStart;
        long placedLength;
        long placedEnter;
        int placedMode;
        int placedResult;
        Pending next;
    }

    /** A mapping seen being made: what backs it, for registrations smaps can no longer tell about. */
    private record Mapping(long start, long end, Backend backend) {
    }

    /** Mappings kept at most (the newest win; a process that maps more is a JVM churning its heap). */
    static final int MAX_MAPPINGS = 4096;

    private final Sink sink;
    private final Map<Long, Long> memfds = new HashMap<>();
    private final ArrayDeque<Mapping> mappings = new ArrayDeque<>();
    private final LongFunction<ProcessMaps.Area> areaAt;
    private final List<Tracked> regions = new ArrayList<>();
    private final List<Tracked> numbered = new ArrayList<>();
    private final PageMap<Pending> pending = new PageMap<>();
    private final ArrayDeque<Pending> freePending = new ArrayDeque<>();
    private final TraceEvent row = new TraceEvent();
    private final long[] ioctls = new long[ResolveIoctl.values().length];
    private final Histogram latency = new Histogram(3);
    private final Histogram queue = new Histogram(3);
    private final Histogram service = new Histogram(3);
    private long seq;
    private long faults;
    private long resolves;
    private long outside;
    private long features;

    /**
     * @param areaAt what backs an address (from /proc/PID/smaps), asked when a registration is seen;
     *               null when the process is gone (the mappings it was seen making decide then)
     */
    public FaultLinker(Sink sink, LongFunction<ProcessMaps.Area> areaAt) {
        this.sink = sink;
        this.areaAt = areaAt;
    }

    /** Adds a region registered before the capture began (from smaps), in the capture program's region {@code slot}. */
    public void known(int slot, long start, long end, Backend backend, long modes, String name) {
        regions.add(new Tracked(slot, start, end, backend, modes, name));
    }

    /**
     * The trace id of the region in the capture program's {@code slot} (numbering it as a row
     * naming it would), or -1 if no registration the capture saw has that slot.
     */
    public int idOfSlot(int slot) throws IOException {
        for (int i = regions.size() - 1; i >= 0; i--) {
            Tracked r = regions.get(i);
            if (r.slot == slot) {
                return idOf(r);
            }
        }
        return -1;
    }

    @Override
    public void accept(CapturedEvent e) {
        try {
            switch (e.type) {
                case CaptureRecord.MSG -> message(e);
                case CaptureRecord.IOCTL -> ioctl(e);
                case CaptureRecord.MEMFD -> memfds.put(e.words[0], e.words[1]);
                case CaptureRecord.MMAP -> mapped(e);
                default -> { }
            }
        } catch (IOException io) {
            throw new UncheckedIOException(io);
        }
    }

    /**
     * A MSG record: words[0] is the event code, words[k] (k = 1..3) the message's 64-bit word at
     * byte 8k, then the page_fault_user entry the program kept for it: time, thread, address (0 if none).
     */
    private void message(CapturedEvent e) throws IOException {
        int code = (int) e.words[0];
        if (code == UffdAbi.UFFD_EVENT_PAGEFAULT) {
            long address = e.words[word(UffdAbi.UFFD_MSG_PAGEFAULT_ADDRESS)];
            Tracked r = findOrForeign(address);
            if (r == null) {
                outside++;
                return;
            }
            long page = address & -r.pageSize;
            Pending p = freePending.isEmpty() ? new Pending() : freePending.pop();
            p.address = address;
            p.flags = (int) e.words[word(UffdAbi.UFFD_MSG_PAGEFAULT_FLAGS)];
            p.tid = (int) e.words[word(UffdAbi.UFFD_MSG_PAGEFAULT_PTID)];
            p.region = r;
            p.tRead = e.time;
            p.tFault = TraceEvent.UNKNOWN;
            p.placedBy = null;
            long entered = e.words[4];
            long enteredAt = e.words[6];
            if (entered != 0 && entered <= e.time && (enteredAt & -r.pageSize) == page) {
                p.tFault = entered;
                if (p.tid == 0) {
                    p.tid = (int) e.words[5];
                }
            }
            p.next = pending.get(page);
            pending.put(page, p);
            return;
        }
        EventKind kind = switch (code) {
            case UffdAbi.UFFD_EVENT_FORK -> EventKind.FORK;
            case UffdAbi.UFFD_EVENT_REMAP -> EventKind.REMAP;
            case UffdAbi.UFFD_EVENT_REMOVE -> EventKind.REMOVE;
            case UffdAbi.UFFD_EVENT_UNMAP -> EventKind.UNMAP;
            default -> null;
        };
        if (kind == null) {
            return;
        }
        long start = kind == EventKind.FORK ? 0 : e.words[1];
        long length = switch (kind) {
            case REMAP -> e.words[word(UffdAbi.UFFD_MSG_REMAP_LEN)];
            case REMOVE, UNMAP -> e.words[word(UffdAbi.UFFD_MSG_REMOVE_END)] - start;
            default -> 0;
        };
        Tracked r = kind == EventKind.FORK ? firstLive() : find(start);
        if (r == null) {
            outside++;
            return;
        }
        row.clear();
        row.kind = kind;
        row.region = idOf(r);
        row.offset = kind == EventKind.FORK ? 0 : start - r.start;
        row.address = start;
        row.resolveOffset = row.offset;
        row.resolveLength = length;
        row.tRead = e.time;
        emit();
    }

    /** An IOCTL record: words[0] the ioctl nr, words[1] its return, words[2 + k] the struct's word at byte 8k, words[7] the slot. */
    private void ioctl(CapturedEvent e) throws IOException {
        int nr = (int) e.words[0];
        long ret = e.words[1];
        long w0 = e.words[2];
        long w1 = e.words[3];
        long w2 = e.words[4];
        ResolveIoctl op;
        long start;
        long length;
        long mode;
        switch (nr) {
            case UffdAbi._UFFDIO_API -> {
                features = w1;
                return;
            }
            case UffdAbi._UFFDIO_REGISTER -> {
                if (ret == 0) {
                    register((int) e.words[7], w0, w1, w2);
                }
                return;
            }
            case UffdAbi._UFFDIO_UNREGISTER -> {
                if (ret == 0) {
                    unregister(w0, w0 + w1);
                }
                return;
            }
            case UffdAbi._UFFDIO_COPY, UffdAbi._UFFDIO_MOVE -> {
                boolean copy = nr == UffdAbi._UFFDIO_COPY;
                op = copy ? ResolveIoctl.COPY : ResolveIoctl.MOVE;
                start = e.words[2 + word(copy ? UffdAbi.UFFDIO_COPY_DST : UffdAbi.UFFDIO_MOVE_DST)];
                length = e.words[2 + word(copy ? UffdAbi.UFFDIO_COPY_LEN : UffdAbi.UFFDIO_MOVE_LEN)];
                mode = e.words[2 + word(copy ? UffdAbi.UFFDIO_COPY_MODE : UffdAbi.UFFDIO_MOVE_MODE)];
            }
            case UffdAbi._UFFDIO_WRITEPROTECT -> {
                ioctls[ResolveIoctl.WRITEPROTECT.ordinal()]++;
                if ((w2 & UffdAbi.UFFDIO_WRITEPROTECT_MODE_WP) != 0) {
                    return; // protecting, not resolving
                }
                op = ResolveIoctl.WRITEPROTECT;
                start = w0;
                length = w1;
                mode = w2 & UffdAbi.UFFDIO_WRITEPROTECT_MODE_DONTWAKE;
            }
            case UffdAbi._UFFDIO_ZEROPAGE, UffdAbi._UFFDIO_CONTINUE, UffdAbi._UFFDIO_POISON, UffdAbi._UFFDIO_WAKE -> {
                op = nr == UffdAbi._UFFDIO_ZEROPAGE ? ResolveIoctl.ZEROPAGE : nr == UffdAbi._UFFDIO_CONTINUE
                        ? ResolveIoctl.CONTINUE : nr == UffdAbi._UFFDIO_POISON ? ResolveIoctl.POISON : ResolveIoctl.WAKE;
                start = w0;
                length = w1;
                mode = op == ResolveIoctl.WAKE ? 0 : w2;
            }
            default -> {
                return;
            }
        }
        if (op != ResolveIoctl.WRITEPROTECT) {
            ioctls[op.ordinal()]++;
        }
        Tracked r = findOrForeign(start);
        if (r == null) {
            outside++;
            return;
        }
        int result = ret < 0 ? (int) ret : 0;
        boolean dontWake = op != ResolveIoctl.WAKE && (mode & op.dontWakeMode()) != 0;
        boolean any = false;
        long end = start + Math.max(length, 1);
        long lo = start & -r.pageSize;
        long page = lo - r.pageSize;
        // faults on the range, in page order; those placed with DONTWAKE before are woken by this call
        while ((page = pending.nextIn(page + r.pageSize, end, r.pageSize)) != 0) {
            Pending kept = null;
            for (Pending p = pending.remove(page); p != null; ) {
                Pending next = p.next;
                if (op == ResolveIoctl.WAKE && p.placedBy == null) {
                    p.next = kept; // a wake for a page not placed yet: the fault waits on
                    kept = p;
                } else if (dontWake && p.placedBy == null) {
                    p.placedBy = op;
                    p.placedStart = start;
                    p.placedLength = length;
                    p.placedEnter = e.enter;
                    p.placedMode = (int) mode;
                    p.placedResult = result;
                    p.next = kept;
                    kept = p;
                    any = true;
                } else {
                    linked(p, op, start, length, (int) mode, result, e, r);
                    any = true;
                }
                p = next;
            }
            if (kept != null) {
                pending.put(page, kept);
            }
        }
        if (!any) {
            row.clear();
            row.kind = EventKind.RESOLVE;
            row.region = idOf(r);
            row.offset = lo - r.start;
            row.address = start;
            resolved(op, start, length, (int) mode, result, e.enter, e.time, r);
            resolves++;
            emit();
        }
    }

    /** Writes fault {@code p}'s row: resolved by this call, or placed earlier with DONTWAKE and woken now. */
    private void linked(Pending p, ResolveIoctl op, long start, long length, int mode, int result, CapturedEvent e, Tracked r)
            throws IOException {
        row.clear();
        row.kind = EventKind.PAGEFAULT;
        fill(p, r);
        if (p.placedBy != null) {
            resolved(p.placedBy, p.placedStart, p.placedLength, p.placedMode, p.placedResult, p.placedEnter, e.time, r);
        } else {
            resolved(op, start, length, mode, result, e.enter, e.time, r);
        }
        if (p.tFault != TraceEvent.UNKNOWN) {
            latency.recordValue(Math.max(1, e.time - p.tFault));
            queue.recordValue(Math.max(0, p.tRead - p.tFault));
        }
        service.recordValue(Math.max(1, e.time - p.tRead));
        faults++;
        emit();
        p.next = null;
        p.region = null;
        freePending.push(p);
    }

    private void fill(Pending p, Tracked r) throws IOException {
        row.region = idOf(r);
        row.address = p.address;
        row.offset = (p.address & -r.pageSize) - r.start;
        row.flags = p.flags;
        row.tid = p.tid;
        row.tFault = p.tFault;
        row.tRead = p.tRead;
    }

    private void resolved(ResolveIoctl op, long start, long length, int mode, int result, long enter, long exit, Tracked r) {
        row.ioctl = op;
        row.resolveOffset = start - r.start;
        row.resolveLength = length;
        row.resolveMode = mode;
        row.result = result;
        row.tResolveStart = enter;
        row.tResolveEnd = exit;
    }

    /** A MMAP record: words = address, length, MAP_* flags, fd, prot. */
    private void mapped(CapturedEvent e) {
        long flags = e.words[2];
        int fd = (int) e.words[3];
        Backend backend;
        Long memfd = (flags & MmanAbi.MAP_ANONYMOUS) == 0 ? memfds.get((long) fd) : null;
        if ((flags & MmanAbi.MAP_HUGETLB) != 0) {
            backend = hugetlb(flags >>> MmanAbi.MAP_HUGE_SHIFT);
        } else if (memfd != null && (memfd & MmanAbi.MFD_HUGETLB) != 0) {
            backend = hugetlb(memfd >>> MmanAbi.MFD_HUGE_SHIFT);
        } else if ((flags & MmanAbi.MAP_SHARED) != 0) {
            backend = Backend.SHMEM;
        } else if ((flags & MmanAbi.MAP_ANONYMOUS) != 0) {
            backend = Backend.ANON;
        } else {
            return; // a private file mapping: not memory userfaultfd registers
        }
        if (mappings.size() >= MAX_MAPPINGS) {
            mappings.removeFirst();
        }
        mappings.addLast(new Mapping(e.words[0], e.words[0] + e.words[1], backend));
    }

    private static Backend hugetlb(long log2Size) {
        return (log2Size & 0x3f) == 30 ? Backend.HUGETLB_1G : Backend.HUGETLB_2M; // 0: the default size, 2M here
    }

    private void register(int slot, long start, long length, long modes) {
        ProcessMaps.Area a = areaAt.apply(start);
        Backend backend = a != null ? a.backend() : null;
        if (backend == null) { // the process is gone: the mapping it made says what backs it
            backend = Backend.ANON;
            for (java.util.Iterator<Mapping> it = mappings.descendingIterator(); it.hasNext(); ) {
                Mapping m = it.next();
                if (Long.compareUnsigned(start, m.start) >= 0 && Long.compareUnsigned(start, m.end) < 0) {
                    backend = m.backend;
                    break;
                }
            }
        }
        regions.add(new Tracked(slot, start, start + length, backend, modes, a == null ? null : mappingName(a.path())));
        sink.registered(slot, start, length, backend);
    }

    /** What a mapping's path says about it: a memfd's name, a file's path; null for anonymous memory. */
    static String mappingName(String path) {
        String p = path.strip();
        if (p.endsWith(" (deleted)")) {
            p = p.substring(0, p.length() - " (deleted)".length());
        }
        if (p.isEmpty() || p.startsWith("[anon")) {
            return null;
        }
        return p.startsWith("/memfd:") ? p.substring(1) : p;
    }

    private void unregister(long start, long end) {
        for (Tracked r : regions) {
            if (r.live && Long.compareUnsigned(r.start, start) >= 0 && Long.compareUnsigned(r.end, end) <= 0) {
                r.live = false;
            }
        }
    }

    /** The trace id of {@code r}, numbering it (and every live region before it) on first use. */
    private int idOf(Tracked r) throws IOException {
        if (r.id >= 0) {
            return r.id;
        }
        for (Tracked t : regions) {
            if (t.id < 0 && (t.live || t == r)) {
                number(t);
            }
        }
        if (r.id < 0) {
            number(r);
        }
        return r.id;
    }

    private void number(Tracked t) throws IOException {
        t.id = numbered.size();
        numbered.add(t);
        String better = sink.nameFor(t.start, t.end - t.start);
        String name = better != null ? better : t.name != null ? t.name : "region" + t.id;
        sink.region(RegionInfo.of(t.id, name, t.backend, t.end - t.start, t.modes, t.start));
    }

    private Tracked firstLive() {
        for (Tracked r : regions) {
            if (r.live) {
                return r;
            }
        }
        return null;
    }

    /** {@link #find}, else a region of the process whose uffd the traced one serves (found once, then known). */
    private Tracked findOrForeign(long address) {
        Tracked r = find(address);
        if (r != null) {
            return r;
        }
        ProcessMaps.Area a = sink.foreign(address);
        if (a == null) {
            return null;
        }
        Tracked t = new Tracked(-1, a.start(), a.end(), a.backend(), a.modes(), mappingName(a.path()));
        regions.add(t);
        return t;
    }

    /** The newest live region holding {@code address} (a range registered again is a new region), else the newest at all. */
    private Tracked find(long address) {
        Tracked any = null;
        for (int i = regions.size() - 1; i >= 0; i--) {
            Tracked r = regions.get(i);
            if (Long.compareUnsigned(address, r.start) >= 0 && Long.compareUnsigned(address, r.end) < 0) {
                if (r.live) {
                    return r;
                }
                if (any == null) {
                    any = r;
                }
            }
        }
        return any;
    }

    private void emit() throws IOException {
        row.seq = seq++;
        sink.row(row);
    }

    /**
     * Writes the faults no ioctl resolved (ioctl NONE; one placed with DONTWAKE and never woken
     * keeps its placing ioctl, without an end), and numbers the live regions no row named.
     */
    public void finish() throws IOException {
        for (Tracked r : new ArrayList<>(regions)) {
            long page;
            while ((page = pending.anyIn(r.start, r.end, r.pageSize)) != 0) {
                for (Pending p = pending.remove(page); p != null; p = p.next) {
                    row.clear();
                    row.kind = EventKind.PAGEFAULT;
                    fill(p, r);
                    if (p.placedBy != null) {
                        resolved(p.placedBy, p.placedStart, p.placedLength, p.placedMode, p.placedResult, p.placedEnter,
                                TraceEvent.UNKNOWN, r);
                    }
                    faults++;
                    emit();
                }
            }
        }
        for (Tracked r : regions) {
            if (r.live && r.id < 0) {
                number(r);
            }
        }
    }

    private static int word(int byteOffset) {
        return byteOffset / 8;
    }

    /** Fault rows written. */
    public long faults() {
        return faults;
    }

    /** RESOLVE rows written (ioctls no fault was waiting on). */
    public long resolves() {
        return resolves;
    }

    /** Ioctls seen, by kind (WRITEPROTECT counts protecting calls too). */
    public long ioctls(ResolveIoctl op) {
        return ioctls[op.ordinal()];
    }

    /** Messages and ioctls on addresses in no known region (registered before a capture that could not see it). */
    public long outside() {
        return outside;
    }

    /** The features the process asked for with UFFDIO_API (0 if not seen). */
    public long features() {
        return features;
    }

    /** Whether any row has been written (the file exists). */
    public boolean wroteRows() {
        return seq > 0;
    }

    /** Fault entry (page_fault_user) to the waking ioctl's exit, for faults with an entry: passive latency. */
    public Histogram latency() {
        return latency;
    }

    /** Fault entry to the handler's read, for faults with an entry. */
    public Histogram queue() {
        return queue;
    }

    /** The handler's read to the waking ioctl's exit, for every linked fault. */
    public Histogram service() {
        return service;
    }
}
