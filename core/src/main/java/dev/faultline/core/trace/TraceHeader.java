package dev.faultline.core.trace;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.faultline.core.FaultlineVersion;
import dev.faultline.core.probe.CapabilityProbe;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A trace's schema metadata (docs/design.md §3): what produced it, where and when, and its regions.
 *
 * <p>Invariant: {@code regions.get(i).id() == i}. Keys this class does not model are kept in
 * {@code extra} and written back unchanged, so tools can add their own (a replay's options).
 *
 * @param version   the Faultline version that wrote the trace
 * @param kernel    the kernel release it was recorded on
 * @param host      the host name
 * @param features  the userfaultfd feature mask in effect
 * @param source    {@code in-process}, {@code bpftrace}, {@code replay} or {@code jmh}
 * @param command   the command line or workload that produced it
 * @param startedAt ISO-8601 start time
 * @param regions   the regions rows point into
 * @param extra     other metadata keys, in order
 */
public record TraceHeader(String version, String kernel, String host, long features, String source,
                          String command, String startedAt, List<RegionInfo> regions, Map<String, String> extra) {

    /** The format this code writes and the newest it reads. */
    public static final String FORMAT = "trace/1";
    public static final int FORMAT_VERSION = 1;

    public static final String KEY_FORMAT = "faultline.format";
    public static final String KEY_VERSION = "faultline.version";
    public static final String KEY_KERNEL = "kernel.release";
    public static final String KEY_HOST = "host";
    public static final String KEY_CLOCK = "clock";
    public static final String KEY_FEATURES = "uffd.features";
    public static final String KEY_SOURCE = "source";
    public static final String KEY_COMMAND = "command";
    public static final String KEY_STARTED_AT = "started_at";
    public static final String KEY_REGIONS = "regions";
    public static final String CLOCK = "CLOCK_MONOTONIC";

    private static final List<String> MODELLED = List.of(KEY_FORMAT, KEY_VERSION, KEY_KERNEL, KEY_HOST,
            KEY_CLOCK, KEY_FEATURES, KEY_SOURCE, KEY_COMMAND, KEY_STARTED_AT, KEY_REGIONS);

    public TraceHeader {
        regions = List.copyOf(regions);
        extra = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(extra)); // keeps the order written
        for (int i = 0; i < regions.size(); i++) {
            if (regions.get(i).id() != i) {
                throw new IllegalArgumentException("region " + i + " has id " + regions.get(i).id());
            }
        }
    }

    /** A header for a trace recorded now on this machine. */
    public static TraceHeader now(String source, String command, long features, List<RegionInfo> regions) {
        return startedAt(Instant.now(), source, command, features, regions);
    }

    /** A header for a trace recorded on this machine from {@code start} on. */
    public static TraceHeader startedAt(Instant start, String source, String command, long features, List<RegionInfo> regions) {
        return new TraceHeader(FaultlineVersion.get(), CapabilityProbe.kernelRelease(), hostName(), features,
                source, command, start.toString(), regions, Map.of());
    }

    /** This header with one more extra key. */
    public TraceHeader with(String key, String value) {
        Map<String, String> e = new LinkedHashMap<>(extra);
        e.put(key, value);
        return new TraceHeader(version, kernel, host, features, source, command, startedAt, regions, e);
    }

    private static String hostName() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            return "unknown";
        }
    }

    /**
     * This header with {@code all} as its regions: a capture that found regions after the file was
     * started lists them all in the footer, and the reader puts them here.
     *
     * @throws TraceFormatException if the ids are not 0..n-1 in order
     */
    public TraceHeader withRegions(String file, List<RegionInfo> all) throws TraceFormatException {
        try {
            return new TraceHeader(version, kernel, host, features, source, command, startedAt, all, extra);
        } catch (IllegalArgumentException e) {
            throw new TraceFormatException(file + " has inconsistent regions metadata: " + e.getMessage());
        }
    }

    /** The {@code regions} metadata value for {@code regions}. */
    public static String regionsJson(List<RegionInfo> regions) {
        return Json.write(regions);
    }

    /** Parses a {@code regions} metadata value. */
    public static List<RegionInfo> parseRegions(String file, String json) throws TraceFormatException {
        return Json.read(file, json);
    }

    /** The schema metadata map this header is written as. */
    public Map<String, String> toMetadata() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put(KEY_FORMAT, FORMAT);
        m.put(KEY_VERSION, version);
        m.put(KEY_KERNEL, kernel);
        m.put(KEY_HOST, host);
        m.put(KEY_CLOCK, CLOCK);
        m.put(KEY_FEATURES, "0x" + Long.toHexString(features));
        m.put(KEY_SOURCE, source);
        if (command != null) {
            m.put(KEY_COMMAND, command);
        }
        m.put(KEY_STARTED_AT, startedAt);
        m.put(KEY_REGIONS, regionsJson(regions));
        m.putAll(extra);
        return m;
    }

    /**
     * Reads a header back from schema metadata.
     *
     * @throws TraceFormatException if it is not trace metadata or is of a newer format
     */
    public static TraceHeader fromMetadata(String file, Map<String, String> m) throws TraceFormatException {
        String format = m == null ? null : m.get(KEY_FORMAT);
        if (format == null) {
            throw new TraceFormatException(file + " is an Arrow file but not a Faultline trace (no "
                    + KEY_FORMAT + " in its schema metadata)");
        }
        if (!format.startsWith("trace/")) {
            throw new TraceFormatException(file + " is a Faultline '" + format + "' file, not a trace");
        }
        int v;
        try {
            v = Integer.parseInt(format.substring("trace/".length()));
        } catch (NumberFormatException e) {
            throw new TraceFormatException(file + " has an unreadable format version '" + format + "'");
        }
        if (v > FORMAT_VERSION) {
            throw new TraceFormatException(file + " is trace format version " + v + "; this Faultline ("
                    + FaultlineVersion.get() + ") reads up to " + FORMAT + " — use a newer Faultline");
        }
        List<RegionInfo> regions = parseRegions(file, m.getOrDefault(KEY_REGIONS, "[]"));
        long features;
        try {
            features = Long.parseUnsignedLong(m.getOrDefault(KEY_FEATURES, "0x0").replaceFirst("^0x", ""), 16);
        } catch (NumberFormatException e) {
            throw new TraceFormatException(file + " has unreadable " + KEY_FEATURES + " '" + m.get(KEY_FEATURES) + "'");
        }
        Map<String, String> extra = new LinkedHashMap<>();
        m.forEach((k, val) -> {
            if (!MODELLED.contains(k)) {
                extra.put(k, val);
            }
        });
        try {
            return new TraceHeader(m.getOrDefault(KEY_VERSION, "unknown"), m.getOrDefault(KEY_KERNEL, "unknown"),
                    m.getOrDefault(KEY_HOST, "unknown"), features, m.getOrDefault(KEY_SOURCE, "unknown"),
                    m.get(KEY_COMMAND), m.getOrDefault(KEY_STARTED_AT, ""), regions, extra);
        } catch (IllegalArgumentException e) {
            throw new TraceFormatException(file + " has inconsistent regions metadata: " + e.getMessage());
        }
    }

    /**
     * Jackson's mapper for the regions metadata, made at first use, and the methods whose exceptions
     * name Jackson's classes (verifying TraceHeader would load them): a replay in a guest takes its
     * header from a plan file and writes its results after its runs, so it needs no JSON before its
     * first fault, and an ObjectMapper made with this class cost it a third of a second under TCG.
     */
    private static final class Json {
        static final ObjectMapper MAPPER = new ObjectMapper();

        static String write(List<RegionInfo> regions) {
            try {
                return MAPPER.writeValueAsString(regions);
            } catch (JsonProcessingException e) {
                throw new IllegalStateException("regions do not serialize", e);
            }
        }

        static List<RegionInfo> read(String file, String json) throws TraceFormatException {
            try {
                return MAPPER.readValue(json, new TypeReference<List<RegionInfo>>() { });
            } catch (JsonProcessingException e) {
                throw new TraceFormatException(file + " has unreadable regions metadata: " + e.getOriginalMessage());
            }
        }
    }
}
