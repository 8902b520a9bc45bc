package dev.faultline.core.abi;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.invoke.VarHandle;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The libbpf functions Faultline calls (Debian's libbpf1, {@code libbpf.so.1}), bound once through
 * java.lang.foreign: open an object file held in memory, load it, attach its programs, find its
 * maps, and read and write map elements.
 *
 * <p>libbpf 1.x returns {@code -errno} from functions returning int, and NULL with errno set from
 * functions returning a pointer; both are turned into {@code -errno} here. What libbpf prints (a
 * verifier log when a program is refused) is kept, the last {@link #LOG_LINES} lines, for the
 * error message, not written to stderr.
 *
 * <p>{@link #available()} says whether the library could be loaded; every other method throws
 * {@link IllegalStateException} naming the package to install when it could not.
 */
public final class Libbpf {
    /** libbpf's lines kept for error messages. */
    public static final int LOG_LINES = 40;
    private static final String LIBRARY = "libbpf.so.1";

    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CALL_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final Linker.Option CAPTURE_ERRNO = Linker.Option.captureCallState("errno");

    private static final String MISSING;
    private static final Bindings B;

    static {
        Bindings b = null;
        String missing = null;
        try {
            b = Bindings.bind();
        } catch (IllegalStateException e) {
            missing = e.getMessage();
        }
        B = b;
        MISSING = missing;
    }
    private static final ArrayDeque<String> LOG = new ArrayDeque<>();

    private Libbpf() {
    }

    /** The bound functions. */
    private record Bindings(MethodHandle openMem, MethodHandle load, MethodHandle close,
                            MethodHandle findMap, MethodHandle mapFd, MethodHandle setMaxEntries,
                            MethodHandle nextProgram, MethodHandle programName, MethodHandle attach,
                            MethodHandle destroyLink, MethodHandle update, MethodHandle lookup, MethodHandle nextKey, MethodHandle delete, MethodHandle setPrint,
                            MethodHandle vsnprintf) {
        /** @throws IllegalStateException saying what is missing */
        static Bindings bind() {
            SymbolLookup lib;
            try {
                lib = SymbolLookup.libraryLookup(LIBRARY, Arena.global());
            } catch (IllegalArgumentException e) {
                throw new IllegalStateException(LIBRARY + " is not installed (apt-get install libbpf1)");
            }
            try {
                Bindings b = new Bindings(
                        bind(lib, "bpf_object__open_mem", FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG, ADDRESS), true),
                        bind(lib, "bpf_object__load", FunctionDescriptor.of(JAVA_INT, ADDRESS), false),
                        bind(lib, "bpf_object__close", FunctionDescriptor.ofVoid(ADDRESS), false),
                        bind(lib, "bpf_object__find_map_by_name", FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS), false),
                        bind(lib, "bpf_map__fd", FunctionDescriptor.of(JAVA_INT, ADDRESS), false),
                        bind(lib, "bpf_map__set_max_entries", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT), false),
                        bind(lib, "bpf_object__next_program", FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS), false),
                        bind(lib, "bpf_program__name", FunctionDescriptor.of(ADDRESS, ADDRESS), false),
                        bind(lib, "bpf_program__attach", FunctionDescriptor.of(ADDRESS, ADDRESS), true),
                        bind(lib, "bpf_link__destroy", FunctionDescriptor.of(JAVA_INT, ADDRESS), false),
                        bind(lib, "bpf_map_update_elem", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG), true),
                        bind(lib, "bpf_map_lookup_elem", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS), true),
                        bind(lib, "bpf_map_get_next_key", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS), true),
                        bind(lib, "bpf_map_delete_elem", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS), true),
                        bind(lib, "libbpf_set_print", FunctionDescriptor.of(ADDRESS, ADDRESS), false),
                        LINKER.downcallHandle(LINKER.defaultLookup().find("vsnprintf").orElseThrow(),
                                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, ADDRESS, ADDRESS)));
                MethodHandle print = MethodHandles.lookup().findStatic(Libbpf.class, "print",
                        MethodType.methodType(int.class, int.class, MemorySegment.class, MemorySegment.class));
                MemorySegment stub = LINKER.upcallStub(print, FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS),
                        Arena.global());
                MemorySegment ignored = (MemorySegment) b.setPrint.invokeExact(stub);
                return b;
            } catch (Throwable t) {
                throw new IllegalStateException(LIBRARY + " lacks what Faultline needs (" + t.getMessage()
                        + "); libbpf 1.0 or newer is required");
            }
        }

        private static MethodHandle bind(SymbolLookup lib, String name, FunctionDescriptor fd, boolean errno) {
            MemorySegment sym = lib.find(name).orElseThrow(() -> new IllegalStateException("no " + name));
            return errno ? LINKER.downcallHandle(sym, fd, CAPTURE_ERRNO) : LINKER.downcallHandle(sym, fd);
        }
    }

    /** libbpf's print callback: formats the line with vsnprintf and keeps it. */
    private static int print(int level, MemorySegment format, MemorySegment args) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(1024);
            int n = (int) B.vsnprintf.invokeExact(buf, 1024L, format, args);
            if (n > 0) {
                for (String line : buf.getString(0).split("\n")) {
                    if (!line.isBlank()) {
                        synchronized (LOG) {
                            if (LOG.size() == LOG_LINES) {
                                LOG.removeFirst();
                            }
                            LOG.addLast(line.strip());
                        }
                    }
                }
            }
        } catch (Throwable ignored) {
            // a line we could not format is not worth failing libbpf's call for
        }
        return 0;
    }

    /** Whether libbpf could be loaded and bound. */
    public static boolean available() {
        return MISSING == null;
    }

    /** Why libbpf cannot be used (null if it can). */
    public static String unavailableReason() {
        return MISSING;
    }

    private static void check() {
        if (MISSING != null) {
            throw new IllegalStateException(MISSING);
        }
    }

    /** libbpf's last lines, oldest first (the verifier's log after a refused load), and forgets them. */
    public static List<String> takeLog() {
        synchronized (LOG) {
            List<String> out = new ArrayList<>(LOG);
            LOG.clear();
            return out;
        }
    }

    private static int errno(MemorySegment state) {
        return (int) ERRNO.get(state, 0L);
    }

    /**
     * {@code bpf_object__open_mem(image, size, NULL)}: the object, or NULL with the errno in
     * {@code errno[0]}.
     */
    public static MemorySegment openMem(MemorySegment image, int[] errno) {
        check();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            MemorySegment obj = (MemorySegment) B.openMem.invokeExact(state, image, image.byteSize(), MemorySegment.NULL);
            errno[0] = obj.address() == 0 ? errno(state) : 0;
            return obj;
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /** {@code bpf_object__load(obj)}: 0 or -errno. */
    public static int load(MemorySegment obj) {
        check();
        try {
            return (int) B.load.invokeExact(obj);
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /** {@code bpf_object__close(obj)}: detaches nothing (links are destroyed on their own), frees the object and its maps' fds. */
    public static void close(MemorySegment obj) {
        check();
        try {
            B.close.invokeExact(obj);
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /** {@code bpf_object__find_map_by_name(obj, name)}: the map, or NULL. */
    public static MemorySegment findMap(MemorySegment obj, String name) {
        check();
        try (Arena arena = Arena.ofConfined()) {
            return (MemorySegment) B.findMap.invokeExact(obj, arena.allocateFrom(name));
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /** {@code bpf_map__fd(map)}: its fd once loaded, or -errno. */
    public static int mapFd(MemorySegment map) {
        check();
        try {
            return (int) B.mapFd.invokeExact(map);
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /** {@code bpf_map__set_max_entries(map, n)} (before load): 0 or -errno. */
    public static int setMaxEntries(MemorySegment map, int entries) {
        check();
        try {
            return (int) B.setMaxEntries.invokeExact(map, entries);
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /** The programs of {@code obj}, in the order of its ELF sections. */
    public static List<MemorySegment> programs(MemorySegment obj) {
        check();
        List<MemorySegment> out = new ArrayList<>();
        try {
            MemorySegment p = MemorySegment.NULL;
            while ((p = (MemorySegment) B.nextProgram.invokeExact(obj, p)).address() != 0) {
                out.add(p);
            }
            return out;
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /** {@code bpf_program__name(prog)}. */
    public static String programName(MemorySegment prog) {
        check();
        try {
            MemorySegment name = (MemorySegment) B.programName.invokeExact(prog);
            return name.reinterpret(256).getString(0);
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /** {@code bpf_program__attach(prog)} (by its SEC name): the link, or NULL with the errno in {@code errno[0]}. */
    public static MemorySegment attach(MemorySegment prog, int[] errno) {
        check();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            MemorySegment link = (MemorySegment) B.attach.invokeExact(state, prog);
            errno[0] = link.address() == 0 ? errno(state) : 0;
            return link;
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /** {@code bpf_link__destroy(link)}: detaches the program; 0 or -errno. */
    public static int destroyLink(MemorySegment link) {
        check();
        try {
            return (int) B.destroyLink.invokeExact(link);
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /** {@code bpf_map_update_elem(fd, key, value, flags)}: 0 or -errno. */
    public static int update(int fd, MemorySegment key, MemorySegment value, long flags) {
        check();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            return (int) B.update.invokeExact(state, fd, key, value, flags); // libbpf 1.x: -errno itself
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /** {@code bpf_map_get_next_key(fd, key, next)} (key NULL: the first): 0 or -errno (-ENOENT: no more keys). */
    public static int nextKey(int fd, MemorySegment key, MemorySegment next) {
        check();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            return (int) B.nextKey.invokeExact(state, fd, key, next);
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /** {@code bpf_map_delete_elem(fd, key)}: 0 or -errno (-ENOENT: no such key). */
    public static int delete(int fd, MemorySegment key) {
        check();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            return (int) B.delete.invokeExact(state, fd, key);
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /** {@code bpf_map_lookup_elem(fd, key, value)}: 0 (value filled) or -errno (-ENOENT: no such key). */
    public static int lookup(int fd, MemorySegment key, MemorySegment value) {
        check();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            return (int) B.lookup.invokeExact(state, fd, key, value);
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }
}
