package dev.faultline.guest;

import org.apache.commons.compress.compressors.CompressorStreamFactory;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The loadable modules a kernel's guest needs and the order to load them in, read from the kernel's
 * own {@code lib/modules/RELEASE}: which names are built in ({@code modules.builtin}), where each
 * module's file is, and what it depends on (the {@code depends=} entry of the module's
 * {@code .modinfo} ELF section, so neither {@code modules.dep} nor depmod is needed).
 *
 * <p>Invariant: {@link #loadOrder} lists every module before the modules that depend on it, each
 * once, none built in; module names compare with '-' and '_' as one, as the kernel does.
 */
public final class KernelModules {
    private final KernelImage kernel;
    private final Set<String> builtin = new HashSet<>();
    private final Map<String, Path> files = new HashMap<>();
    private final Map<String, String> config = new HashMap<>();

    private KernelModules(KernelImage kernel) {
        this.kernel = kernel;
    }

    /** Indexes the kernel's modules directory and build configuration (either may be absent). */
    public static KernelModules of(KernelImage kernel) throws GuestException {
        KernelModules m = new KernelModules(kernel);
        try {
            if (kernel.modules() != null) {
                Path list = kernel.modules().resolve("modules.builtin");
                if (Files.isRegularFile(list)) {
                    for (String line : Files.readAllLines(list)) {
                        m.builtin.add(name(line));
                    }
                }
                try (Stream<Path> s = Files.walk(kernel.modules().resolve("kernel"))) {
                    s.filter(Files::isRegularFile).forEach(p -> {
                        String n = p.getFileName().toString();
                        int ko = n.indexOf(".ko");
                        if (ko > 0) {
                            m.files.putIfAbsent(normal(n.substring(0, ko)), p);
                        }
                    });
                }
            }
            if (kernel.config() != null) {
                for (String line : Files.readAllLines(kernel.config())) {
                    int eq = line.indexOf('=');
                    if (line.startsWith("CONFIG_") && eq > 0) {
                        m.config.put(line.substring(0, eq), line.substring(eq + 1));
                    }
                }
            }
        } catch (IOException e) {
            throw new GuestException("kernel " + kernel.release() + ": cannot read its modules under " + kernel.modules()
                    + " (" + e.getMessage() + ")");
        }
        return m;
    }

    /**
     * The value of {@code CONFIG_symbol} ("y", "m", a number…), "n" when the configuration says it
     * is not set, or null when there is no configuration to ask.
     */
    public String config(String symbol) {
        if (kernel.config() == null) {
            return null;
        }
        return config.getOrDefault("CONFIG_" + symbol, "n");
    }

    /**
     * Files of {@code wanted} and of everything they depend on, dependencies first, skipping what is
     * built in.
     *
     * @throws GuestException one line naming the first module that is neither built in nor found
     */
    public List<Path> loadOrder(List<String> wanted) throws GuestException {
        LinkedHashMap<String, Path> order = new LinkedHashMap<>();
        for (String w : wanted) {
            visit(normal(w), order, new LinkedHashSet<>(), w);
        }
        return new ArrayList<>(order.values());
    }

    private void visit(String name, LinkedHashMap<String, Path> order, LinkedHashSet<String> path, String wanted)
            throws GuestException {
        if (order.containsKey(name) || builtin.contains(name)) {
            return;
        }
        if (!path.add(name)) {
            throw new GuestException("kernel " + kernel.release() + ": module " + name + " depends on itself through " + path);
        }
        Path file = files.get(name);
        if (file == null) {
            throw new GuestException("kernel " + kernel.release() + " has no module " + name
                    + (name.equals(normal(wanted)) ? "" : " (needed by " + wanted + ")") + " built in or under "
                    + (kernel.modules() == null ? "lib/modules/" + kernel.release() + " (not found beside the image nor on the host)"
                    : kernel.modules()));
        }
        for (String dep : depends(file)) {
            visit(dep, order, path, wanted);
        }
        path.remove(name);
        order.put(name, file);
    }

    /** The names in a module file's {@code .modinfo depends=} entry. */
    static List<String> depends(Path module) throws GuestException {
        for (String entry : modinfo(read(module))) {
            if (entry.startsWith("depends=")) {
                List<String> out = new ArrayList<>();
                for (String d : entry.substring("depends=".length()).split(",")) {
                    if (!d.isBlank()) {
                        out.add(normal(d.strip()));
                    }
                }
                return out;
            }
        }
        return List.of();
    }

    /**
     * A module file's bytes, uncompressed ({@code .ko}, {@code .ko.xz}, {@code .ko.zst},
     * {@code .ko.gz}): what the initramfs holds, since the guest's insmod may not decompress.
     */
    public static byte[] read(Path module) throws GuestException {
        try (InputStream raw = new BufferedInputStream(Files.newInputStream(module))) {
            if (module.getFileName().toString().endsWith(".ko")) {
                return raw.readAllBytes();
            }
            try (InputStream in = CompressorStreamFactory.getSingleton().createCompressorInputStream(raw)) {
                return in.readAllBytes();
            }
        } catch (IOException e) {
            throw new GuestException("module " + module + ": cannot read it (" + e.getMessage() + ")");
        }
    }

    /** The NUL-separated {@code key=value} entries of an ELF64 module's {@code .modinfo} section. */
    static List<String> modinfo(byte[] elf) throws GuestException {
        ByteBuffer b = ByteBuffer.wrap(elf).order(ByteOrder.LITTLE_ENDIAN);
        if (!isElf64(elf)) {
            throw new GuestException("not an ELF64 module");
        }
        long shoff = b.getLong(0x28);
        int shentsize = Short.toUnsignedInt(b.getShort(0x3A));
        int shnum = Short.toUnsignedInt(b.getShort(0x3C));
        int shstrndx = Short.toUnsignedInt(b.getShort(0x3E));
        if (shoff <= 0 || shoff + (long) shnum * shentsize > elf.length || shstrndx >= shnum) {
            throw new GuestException("module's ELF section table is out of bounds");
        }
        long names = b.getLong((int) (shoff + (long) shstrndx * shentsize + 0x18));
        for (int i = 0; i < shnum; i++) {
            int sh = (int) (shoff + (long) i * shentsize);
            int nameAt = (int) (names + Integer.toUnsignedLong(b.getInt(sh)));
            if (matches(elf, nameAt, ".modinfo")) {
                int off = (int) b.getLong(sh + 0x18);
                int size = (int) b.getLong(sh + 0x20);
                List<String> out = new ArrayList<>();
                for (String s : new String(elf, off, size, StandardCharsets.US_ASCII).split("\0")) {
                    if (!s.isEmpty()) {
                        out.add(s);
                    }
                }
                return out;
            }
        }
        return List.of();
    }

    /** Whether {@code head} starts with an ELF header of a 64-bit object ({@code \x7fELF}, ELFCLASS64). */
    static boolean isElf64(byte[] head) {
        return head.length >= 64 && head[0] == 0x7f && head[1] == 'E' && head[2] == 'L' && head[3] == 'F' && head[4] == 2;
    }

    private static boolean matches(byte[] b, int at, String s) {
        if (at < 0 || at + s.length() >= b.length) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            if (b[at + i] != s.charAt(i)) {
                return false;
            }
        }
        return b[at + s.length()] == 0;
    }

    /** A {@code modules.builtin} line ({@code kernel/fs/9p/9p.ko}) as a module name. */
    private static String name(String line) {
        String n = line.substring(line.lastIndexOf('/') + 1);
        int ko = n.indexOf(".ko");
        return normal(ko > 0 ? n.substring(0, ko) : n);
    }

    private static String normal(String name) {
        return name.replace('-', '_');
    }
}
