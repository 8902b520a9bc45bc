package dev.faultline.replay.plan;

import dev.faultline.collector.touch.TouchKind;
import dev.faultline.collector.touch.TouchScript;
import dev.faultline.core.region.Backend;
import dev.faultline.core.trace.RegionInfo;
import dev.faultline.core.trace.TraceHeader;
import dev.faultline.core.uffd.RegisterMode;
import dev.faultline.core.uffd.ResolveIoctl;
import org.HdrHistogram.Histogram;

import java.io.BufferedOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A {@link ReplayPlan} as a flat file: what the host hands a guest's replay so that the guest
 * reads no Arrow. Arrow Java initialises Jackson (an {@code ObjectMapper} and a reader built from
 * annotations) the first time any Arrow file is opened; under TCG that and its ~1,000 classes were
 * seconds of every guest's start before its first fault (docs/kernels.md).
 *
 * <p>Invariant: {@code read(write(plan))} plans the same replay: the same regions (recorded entry,
 * backend, length, mode, and per planned fault its page, ioctl, range, mode and delay), scripts,
 * pushes and counts. The trace's service times are left out (a plan read back has none): the
 * planner has drawn them into the faults' delays already, and only the host's summary prints them,
 * while decoding them took a TCG guest half a second. Only this build reads what it wrote: the file
 * starts with {@link #MAGIC} and a version, and a file of another version or none is refused.
 */
public final class PlanFile {
    /** "FLPLAN" and a version in the low two bytes. */
    static final long MAGIC = 0x464c504c414e0000L | 1;

    private PlanFile() {
    }

    /** Writes {@code plan} to {@code file}, replacing it. */
    public static void write(ReplayPlan plan, Path file) throws IOException {
        try (DataOutputStream out = new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(file), 1 << 16))) {
            out.writeLong(MAGIC);
            writeString(out, plan.trace().toString());
            writeHeader(out, plan.header());
            out.writeInt(plan.regions().size());
            for (RegionPlan r : plan.regions()) {
                writeRegion(out, r);
            }
            out.writeInt(plan.scripts().size());
            for (TouchScript s : plan.scripts()) {
                out.writeInt(s.size());
                for (int k = 0; k < s.size(); k++) {
                    out.writeInt(s.region(k));
                    out.writeInt(s.page(k));
                    out.writeByte(s.kind(k).ordinal());
                    out.writeLong(s.due(k));
                }
            }
            writeInts(out, plan.threadTids());
            out.writeInt(plan.pushes().size());
            for (Push p : plan.pushes()) {
                out.writeInt(p.region());
                out.writeByte(p.op().ordinal());
                out.writeLong(p.offset());
                out.writeLong(p.length());
                out.writeInt(p.mode());
                out.writeLong(p.dueNanos());
                out.writeInt(p.afterThread());
                out.writeInt(p.afterTouches());
                out.writeLong(p.afterNanos());
                out.writeLong(p.takenOffset());
            }
            out.writeLong(plan.recordedFaults());
            out.writeInt(plan.faultsByTid().size());
            for (Map.Entry<Integer, Long> e : plan.faultsByTid().entrySet()) {
                out.writeInt(e.getKey());
                out.writeLong(e.getValue());
            }
            out.writeInt(plan.faultsByIoctl().size());
            for (Map.Entry<ResolveIoctl, Long> e : plan.faultsByIoctl().entrySet()) {
                out.writeByte(e.getKey().ordinal());
                out.writeLong(e.getValue());
            }
            out.writeLong(plan.folded());
            out.writeInt(plan.skipped().size());
            for (Map.Entry<String, Long> e : plan.skipped().entrySet()) {
                writeString(out, e.getKey());
                out.writeLong(e.getValue());
            }
        }
    }

    /**
     * The plan {@link #write} wrote to {@code file}.
     *
     * @throws IOException naming the file when it cannot be read or is not a plan file of this build
     */
    public static ReplayPlan read(Path file) throws IOException {
        if (Files.size(file) > Integer.MAX_VALUE - 8) {
            throw new IOException(file + " is a replay plan over 2 GiB, more than a guest's replay reads");
        }
        ByteBuffer in = ByteBuffer.wrap(Files.readAllBytes(file)); // big-endian, as DataOutputStream wrote it
        try {
            long magic = in.getLong();
            if (magic != MAGIC) {
                throw new IOException(file + " is not a replay plan of this faultline build");
            }
            Path trace = Path.of(readString(in));
            TraceHeader header = readHeader(in);
            List<RegionPlan> regions = new ArrayList<>();
            for (int i = in.getInt(); i > 0; i--) {
                regions.add(readRegion(in));
            }
            TouchKind[] kinds = TouchKind.values();
            List<TouchScript> scripts = new ArrayList<>();
            for (int t = in.getInt(); t > 0; t--) {
                TouchScript s = new TouchScript();
                for (int k = in.getInt(); k > 0; k--) {
                    s.add(in.getInt(), in.getInt(), kinds[Byte.toUnsignedInt(in.get())], in.getLong());
                }
                scripts.add(s.seal());
            }
            int[] threadTids = readInts(in);
            ResolveIoctl[] ioctls = ResolveIoctl.values();
            List<Push> pushes = new ArrayList<>();
            for (int i = in.getInt(); i > 0; i--) {
                pushes.add(new Push(in.getInt(), ioctls[Byte.toUnsignedInt(in.get())], in.getLong(), in.getLong(), in.getInt(),
                        in.getLong(), in.getInt(), in.getInt(), in.getLong(), in.getLong()));
            }
            long recordedFaults = in.getLong();
            Map<Integer, Long> byTid = new LinkedHashMap<>();
            for (int i = in.getInt(); i > 0; i--) {
                byTid.put(in.getInt(), in.getLong());
            }
            Map<ResolveIoctl, Long> byIoctl = new LinkedHashMap<>();
            for (int i = in.getInt(); i > 0; i--) {
                byIoctl.put(ioctls[Byte.toUnsignedInt(in.get())], in.getLong());
            }
            long folded = in.getLong();
            Map<String, Long> skipped = new LinkedHashMap<>();
            for (int i = in.getInt(); i > 0; i--) {
                skipped.put(readString(in), in.getLong());
            }
            return new ReplayPlan(trace, header, List.copyOf(regions), List.copyOf(scripts), threadTids, List.copyOf(pushes),
                    recordedFaults, Map.copyOf(byTid), Map.copyOf(byIoctl), folded, Map.copyOf(skipped), new Histogram(3));
        } catch (BufferUnderflowException e) {
            throw new IOException(file + " ends before its replay plan does");
        } catch (IllegalArgumentException | IndexOutOfBoundsException | NegativeArraySizeException e) {
            throw new IOException(file + " is not a replay plan of this faultline build (" + e.getMessage() + ")");
        }
    }

    private static void writeHeader(DataOutputStream out, TraceHeader h) throws IOException {
        writeString(out, h.version());
        writeString(out, h.kernel());
        writeString(out, h.host());
        out.writeLong(h.features());
        writeString(out, h.source());
        writeString(out, h.command());
        writeString(out, h.startedAt());
        out.writeInt(h.regions().size());
        for (RegionInfo r : h.regions()) {
            writeRegionInfo(out, r);
        }
        out.writeInt(h.extra().size());
        for (Map.Entry<String, String> e : h.extra().entrySet()) {
            writeString(out, e.getKey());
            writeString(out, e.getValue());
        }
    }

    private static TraceHeader readHeader(ByteBuffer in) {
        String version = readString(in);
        String kernel = readString(in);
        String host = readString(in);
        long features = in.getLong();
        String source = readString(in);
        String command = readString(in);
        String startedAt = readString(in);
        List<RegionInfo> regions = new ArrayList<>();
        for (int i = in.getInt(); i > 0; i--) {
            regions.add(readRegionInfo(in));
        }
        Map<String, String> extra = new LinkedHashMap<>();
        for (int i = in.getInt(); i > 0; i--) {
            extra.put(readString(in), readString(in));
        }
        return new TraceHeader(version, kernel, host, features, source, command, startedAt, regions, extra);
    }

    private static void writeRegion(DataOutputStream out, RegionPlan r) throws IOException {
        writeRegionInfo(out, r.recorded());
        out.writeByte(r.backend().ordinal());
        out.writeLong(r.length());
        out.writeByte(r.mode().ordinal());
        int n = r.faults();
        out.writeInt(n);
        out.writeBoolean(r.hasDelays());
        for (int i = 0; i < n; i++) {
            out.writeLong(r.page(i));
            out.writeByte(r.op(i).ordinal());
            out.writeLong(r.rangeOffset(i));
            out.writeLong(r.rangeLength(i));
            out.writeInt(r.mode(i));
            if (r.hasDelays()) {
                out.writeLong(r.delay(i));
            }
        }
        Set<ResolveIoctl> used = r.opsUsed();
        out.writeInt(used.size());
        for (ResolveIoctl op : used) {
            out.writeByte(op.ordinal());
        }
    }

    private static RegionPlan readRegion(ByteBuffer in) {
        RegionInfo recorded = readRegionInfo(in);
        Backend backend = Backend.values()[Byte.toUnsignedInt(in.get())];
        long length = in.getLong();
        RegisterMode mode = RegisterMode.values()[Byte.toUnsignedInt(in.get())];
        int n = in.getInt();
        boolean hasDelays = in.get() != 0;
        long[] pages = new long[n];
        byte[] ops = new byte[n];
        long[] rangeOffsets = new long[n];
        long[] rangeLengths = new long[n];
        int[] modes = new int[n];
        long[] delays = hasDelays ? new long[n] : null;
        for (int i = 0; i < n; i++) {
            pages[i] = in.getLong();
            ops[i] = in.get();
            rangeOffsets[i] = in.getLong();
            rangeLengths[i] = in.getLong();
            modes[i] = in.getInt();
            if (hasDelays) {
                delays[i] = in.getLong();
            }
        }
        ResolveIoctl[] ioctls = ResolveIoctl.values();
        Set<ResolveIoctl> used = EnumSet.noneOf(ResolveIoctl.class);
        for (int i = in.getInt(); i > 0; i--) {
            used.add(ioctls[Byte.toUnsignedInt(in.get())]);
        }
        // the ops used: the faults' own and the pushes', which the constructor merges again
        return new RegionPlan(recorded, backend, length, mode, pages, ops, rangeOffsets, rangeLengths, modes, delays, used);
    }

    private static void writeRegionInfo(DataOutputStream out, RegionInfo r) throws IOException {
        out.writeInt(r.id());
        writeString(out, r.name());
        writeString(out, r.backend());
        out.writeLong(r.pageSize());
        out.writeLong(r.length());
        writeString(out, r.modes());
        out.writeLong(r.base());
    }

    private static RegionInfo readRegionInfo(ByteBuffer in) {
        return new RegionInfo(in.getInt(), readString(in), readString(in), in.getLong(), in.getLong(), readString(in), in.getLong());
    }

    private static void writeInts(DataOutputStream out, int[] values) throws IOException {
        out.writeInt(values.length);
        for (int v : values) {
            out.writeInt(v);
        }
    }

    private static int[] readInts(ByteBuffer in) {
        int[] values = new int[in.getInt()];
        for (int i = 0; i < values.length; i++) {
            values[i] = in.getInt();
        }
        return values;
    }

    /** A string of any length, or null (writeUTF takes 65,535 bytes at most, and no null; a command line can be longer). */
    private static void writeString(DataOutputStream out, String s) throws IOException {
        if (s == null) {
            out.writeInt(-1);
            return;
        }
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        out.writeInt(b.length);
        out.write(b);
    }

    private static String readString(ByteBuffer in) {
        int n = in.getInt();
        if (n < 0) {
            return null;
        }
        byte[] b = new byte[n];
        in.get(b);
        return new String(b, StandardCharsets.UTF_8);
    }
}
