package dev.faultline.core.bpf;

import dev.faultline.core.abi.Errno;
import dev.faultline.core.abi.Libbpf;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A BPF object file (an ELF image of BPF programs and maps, compiled with clang), opened and
 * loaded into the kernel through libbpf; its programs are attached by {@link #attachAll} where
 * their section names say ({@code SEC("tracepoint/...")}) and detached by {@link #close}.
 *
 * <p>Loading needs CAP_BPF and CAP_PERFMON (root). Invariant: once {@link #open} returns, every
 * map exists in the kernel; programs run only between {@link #attachAll} and {@link #close}.
 */
public final class BpfObject implements AutoCloseable {
    private final String name;
    private final Arena arena;
    private final MemorySegment object;
    private final List<MemorySegment> links = new ArrayList<>();
    private final Map<String, BpfMap> maps = new HashMap<>();
    private boolean closed;

    private BpfObject(String name, Arena arena, MemorySegment object) {
        this.name = name;
        this.arena = arena;
        this.object = object;
    }

    /**
     * Opens {@code image} and loads it, with the map sizes in {@code maxEntries} (by map name) set first.
     *
     * @param name a name for messages (the object's file name)
     * @throws BpfException in one line: libbpf missing, the image unreadable, a program the verifier refused
     */
    public static BpfObject open(String name, byte[] image, Map<String, Integer> maxEntries) {
        if (!Libbpf.available()) {
            throw new BpfException("cannot load " + name + ": " + Libbpf.unavailableReason());
        }
        Arena arena = Arena.ofShared();
        MemorySegment copy = arena.allocate(image.length, 8);
        copy.copyFrom(MemorySegment.ofArray(image));
        Libbpf.takeLog();
        int[] errno = new int[1];
        MemorySegment obj = Libbpf.openMem(copy, errno);
        if (obj.address() == 0) {
            arena.close();
            throw new BpfException("cannot open BPF object " + name + ": " + Errno.name(errno[0]) + lastWords());
        }
        BpfObject o = new BpfObject(name, arena, obj);
        try {
            maxEntries.forEach((map, n) -> {
                MemorySegment m = Libbpf.findMap(obj, map);
                if (m.address() == 0) {
                    throw new BpfException(name + " has no map " + map);
                }
                int rc = Libbpf.setMaxEntries(m, n);
                if (rc < 0) {
                    throw new BpfException("cannot size map " + map + " of " + name + " to " + n + ": " + Errno.name(-rc));
                }
            });
            int rc = Libbpf.load(obj);
            if (rc < 0) {
                throw new BpfException("the kernel refused " + name + ": " + Errno.name(-rc) + lastWords());
            }
            return o;
        } catch (RuntimeException e) {
            o.close();
            throw e;
        }
    }

    /** The line of libbpf's log that says why (the verifier's last line before its summary), or nothing. */
    private static String lastWords() {
        List<String> log = Libbpf.takeLog();
        for (int i = log.size() - 1; i >= 0; i--) {
            String l = log.get(i);
            if (!l.startsWith("libbpf:") && !l.startsWith("processed ") && !l.startsWith("--") && !l.startsWith("verification time")
                    && !l.startsWith("stack depth")) {
                return " (" + l + ")";
            }
        }
        return log.isEmpty() ? "" : " (" + log.getLast() + ")";
    }

    /**
     * The map called {@code mapName}.
     *
     * @throws BpfException if the object has none
     */
    public BpfMap map(String mapName) {
        return maps.computeIfAbsent(mapName, n -> {
            MemorySegment m = Libbpf.findMap(object, n);
            if (m.address() == 0) {
                throw new BpfException(name + " has no map " + n);
            }
            return new BpfMap(n, Libbpf.mapFd(m));
        });
    }

    /**
     * Attaches every program where its section name says.
     *
     * @throws BpfException naming the program and the errno; nothing stays attached then
     */
    public void attachAll() {
        int[] errno = new int[1];
        for (MemorySegment prog : Libbpf.programs(object)) {
            MemorySegment link = Libbpf.attach(prog, errno);
            if (link.address() == 0) {
                String program = Libbpf.programName(prog);
                detachAll();
                throw new BpfException("cannot attach " + program + " of " + name + ": " + Errno.name(errno[0]) + lastWords());
            }
            links.add(link);
        }
    }

    /** Detaches every program: nothing of it runs after this returns. */
    public void detachAll() {
        for (MemorySegment l : links) {
            Libbpf.destroyLink(l);
        }
        links.clear();
    }

    /** Detaches the programs and frees the object and its maps. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        detachAll();
        Libbpf.close(object);
        arena.close();
    }
}
