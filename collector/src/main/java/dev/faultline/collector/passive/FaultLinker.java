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
import java.util.List;
import java.util.function.Consumer;
import java.util.function.LongFunction;

/**
 * Turns a traced process's observations, in time order, into trace rows: each fault message comes
 * with its fault entry (page_fault_user on its page) and is linked to the ioctl that resolved it (the
 * first UFFDIO_* call covering its page to finish after it was read, from any thread); an ioctl
 * no fault was waiting on becomes a RESOLVE row. Registrations become regions.
 *
 * <p>Invariants: every fault message read yields exactly one PAGEFAULT row (faults never
 * resolved are written at {@link #finish} with ioctl NONE); rows are handed to the sink in the
 * order they are complete; objects are pooled, so a fault costs no allocation.
 */
public final class FaultLinker implements Consumer<CapturedEvent> {
    /** Where rows and newly found regions go. */
    public interface Sink {
        /** A region found by a registration: rows may name it from now on. */
        void region(RegionInfo region) throws IOException;

        /** One finished row (reused after the call). */
        void row(TraceEvent row) throws IOException;
    }

    private record Tracked(int id, long start, long end, long pageSize) {
    }

    private static final class Pending {
        long address;
        int flags;
        int tid;
        int region;
        long tFault;
        long tRead;
        Pending next;
    }

    /** A mapping seen being made: what backs it, for registrations smaps can no longer tell about. */
    private record Mapping(long start, long end, Backend backend) {
    }

    /** Mappings kept at most (the newest win; a process that maps more is a JVM churning its heap). */
    static final int MAX_MAPPINGS = 4096;

    private final Sink sink;
    private final java.util.Map<Long, Long> memfds = new java.util.HashMap<>();
    private final ArrayDeque<Mapping> mappings = new ArrayDeque<>();
    private final LongFunction<ProcessMaps.Area> areaAt;
    private final List<Tracked> regions = new ArrayList<>();
    private final PageMap<Pending> pending = new PageMap<>();
    private final ArrayDeque<Pending> freePending = new ArrayDeque<>();
    private final TraceEvent row = new TraceEvent();
    private final long[] ioctls = new long[ResolveIoctl.values().length];
    private final Histogram latency = new Histogram(3);
    private long seq;
    private long faults;
    private long resolves;
    private long outside;
    private long features;

    /**
     * @param areaAt what backs an address (from /proc/PID/smaps), asked when a registration is seen;
     *               null when the process is gone (the region is then taken as anon 4K)
     */
    public FaultLinker(Sink sink, LongFunction<ProcessMaps.Area> areaAt) {
        this.sink = sink;
        this.areaAt = areaAt;
    }

    /** Adds a region registered before the capture began (from smaps). */
    public void known(long start, long end, Backend backend, long modes) throws IOException {
        addRegion(start, end - start, backend, modes);
    }

    @Override
    public void accept(CapturedEvent e) {
        try {
            switch (e.type) {
                case 'M' -> message(e);
                case 'I' -> ioctl(e);
                case 'D' -> memfds.put(e.words[0], e.words[1]);
                case 'P' -> mapped(e);
                default -> { }
            }
        } catch (IOException io) {
            throw new UncheckedIOException(io);
        }
    }

    /**
     * An M line: words[0] is the event code, words[k] (k = 1..3) the message's 64-bit word at byte
     * 8k, then the page_fault_user entry the script kept for it: time, thread, address (0 if none).
     */
    private void message(CapturedEvent e) throws IOException {
        int code = (int) e.words[0];
        if (code == UffdAbi.UFFD_EVENT_PAGEFAULT) {
            long address = e.words[word(UffdAbi.UFFD_MSG_PAGEFAULT_ADDRESS)];
            Tracked r = find(address);
            if (r == null) {
                outside++;
                return;
            }
            long page = address & -r.pageSize;
            Pending p = freePending.isEmpty() ? new Pending() : freePending.pop();
            p.address = address;
            p.flags = (int) e.words[word(UffdAbi.UFFD_MSG_PAGEFAULT_FLAGS)];
            p.tid = (int) e.words[word(UffdAbi.UFFD_MSG_PAGEFAULT_PTID)];
            p.region = r.id;
            p.tRead = e.time;
            p.tFault = TraceEvent.UNKNOWN;
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
        Tracked r = kind == EventKind.FORK ? (regions.isEmpty() ? null : regions.getFirst()) : find(start);
        if (r == null) {
            outside++;
            return;
        }
        row.clear();
        row.kind = kind;
        row.region = r.id;
        row.offset = kind == EventKind.FORK ? 0 : start - r.start;
        row.address = start;
        row.resolveOffset = row.offset;
        row.resolveLength = length;
        row.tRead = e.time;
        emit();
    }

    /** An I line: words[0] the ioctl nr, words[1] its return, words[2 + k] the struct's word at byte 8k. */
    private void ioctl(CapturedEvent e) throws IOException {
        int nr = (int) e.words[0];
        long ret = e.words[1];
        long w0 = e.words[2];
        long w1 = e.words[3];
        long w2 = e.words[4];
        ResolveIoctl op;
        long start;
        long length;
        switch (nr) {
            case UffdAbi._UFFDIO_API -> {
                features = w1;
                return;
            }
            case UffdAbi._UFFDIO_REGISTER -> {
                if (ret == 0) {
                    register(w0, w1, w2);
                }
                return;
            }
            case UffdAbi._UFFDIO_UNREGISTER -> {
                return;
            }
            case UffdAbi._UFFDIO_COPY, UffdAbi._UFFDIO_MOVE -> {
                boolean copy = nr == UffdAbi._UFFDIO_COPY;
                op = copy ? ResolveIoctl.COPY : ResolveIoctl.MOVE;
                start = e.words[2 + word(copy ? UffdAbi.UFFDIO_COPY_DST : UffdAbi.UFFDIO_MOVE_DST)];
                length = e.words[2 + word(copy ? UffdAbi.UFFDIO_COPY_LEN : UffdAbi.UFFDIO_MOVE_LEN)];
            }
            case UffdAbi._UFFDIO_WRITEPROTECT -> {
                ioctls[ResolveIoctl.WRITEPROTECT.ordinal()]++;
                if ((w2 & UffdAbi.UFFDIO_WRITEPROTECT_MODE_WP) != 0) {
                    return; // protecting, not resolving
                }
                op = ResolveIoctl.WRITEPROTECT;
                start = w0;
                length = w1;
            }
            case UffdAbi._UFFDIO_ZEROPAGE, UffdAbi._UFFDIO_CONTINUE, UffdAbi._UFFDIO_POISON, UffdAbi._UFFDIO_WAKE -> {
                op = nr == UffdAbi._UFFDIO_ZEROPAGE ? ResolveIoctl.ZEROPAGE : nr == UffdAbi._UFFDIO_CONTINUE
                        ? ResolveIoctl.CONTINUE : nr == UffdAbi._UFFDIO_POISON ? ResolveIoctl.POISON : ResolveIoctl.WAKE;
                start = w0;
                length = w1;
            }
            default -> {
                return;
            }
        }
        if (op != ResolveIoctl.WRITEPROTECT) {
            ioctls[op.ordinal()]++;
        }
        Tracked r = find(start);
        if (r == null) {
            outside++;
            return;
        }
        int result = ret < 0 ? (int) ret : 0;
        boolean any = false;
        long end = start + Math.max(length, 1);
        long lo = start & -r.pageSize;
        long page;
        while ((page = pending.anyIn(lo, end, r.pageSize)) != 0) {
            for (Pending p = pending.remove(page); p != null; ) {
                row.clear();
                row.kind = EventKind.PAGEFAULT;
                fill(p, r);
                resolved(op, start, length, result, e, r);
                if (p.tFault != TraceEvent.UNKNOWN) {
                    latency.recordValue(Math.max(1, e.time - p.tFault));
                }
                faults++;
                emit();
                Pending next = p.next;
                p.next = null;
                freePending.push(p);
                p = next;
            }
            any = true;
        }
        if (!any) {
            row.clear();
            row.kind = EventKind.RESOLVE;
            row.region = r.id;
            row.offset = lo - r.start;
            row.address = start;
            resolved(op, start, length, result, e, r);
            resolves++;
            emit();
        }
    }

    private void fill(Pending p, Tracked r) {
        row.region = r.id;
        row.address = p.address;
        row.offset = (p.address & -r.pageSize) - r.start;
        row.flags = p.flags;
        row.tid = p.tid;
        row.tFault = p.tFault;
        row.tRead = p.tRead;
    }

    private void resolved(ResolveIoctl op, long start, long length, int result, CapturedEvent e, Tracked r) {
        row.ioctl = op;
        row.resolveOffset = start - r.start;
        row.resolveLength = length;
        row.result = result;
        row.tResolveStart = e.enter;
        row.tResolveEnd = e.time;
    }

    /** A P line: words = address, length, MAP_* flags, fd. */
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

    private void register(long start, long length, long modes) throws IOException {
        ProcessMaps.Area a = areaAt.apply(start);
        Backend backend = a != null ? a.backend() : Backend.ANON;
        if (a == null) { // the process is gone: the mapping it made says what backs it
            for (java.util.Iterator<Mapping> it = mappings.descendingIterator(); it.hasNext(); ) {
                Mapping m = it.next();
                if (Long.compareUnsigned(start, m.start) >= 0 && Long.compareUnsigned(start, m.end) < 0) {
                    backend = m.backend;
                    break;
                }
            }
        }
        addRegion(start, length, backend, modes);
    }

    private void addRegion(long start, long length, Backend backend, long modes) throws IOException {
        int id = regions.size();
        regions.add(new Tracked(id, start, start + length, backend.pageSize()));
        sink.region(RegionInfo.of(id, "region" + id, backend, length, modes, start));
    }

    /** The newest region holding {@code address} (a range registered again is a new region). */
    private Tracked find(long address) {
        for (int i = regions.size() - 1; i >= 0; i--) {
            Tracked r = regions.get(i);
            if (Long.compareUnsigned(address, r.start) >= 0 && Long.compareUnsigned(address, r.end) < 0) {
                return r;
            }
        }
        return null;
    }

    private void emit() throws IOException {
        row.seq = seq++;
        sink.row(row);
    }

    /** Writes the faults no ioctl resolved (ioctl NONE), in no particular order. */
    public void finish() throws IOException {
        for (Tracked r : regions) {
            long page;
            while ((page = pending.anyIn(r.start, r.end, r.pageSize)) != 0) {
                for (Pending p = pending.remove(page); p != null; p = p.next) {
                    row.clear();
                    row.kind = EventKind.PAGEFAULT;
                    fill(p, r);
                    faults++;
                    emit();
                }
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

    /** Fault entry to resolving ioctl's exit, for faults with a page_fault_user entry. */
    public Histogram latency() {
        return latency;
    }
}
