package dev.faultline.analysis;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.faultline.core.trace.TraceHeader;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What a passive trace says about the traced process's threads: the faulting threads' names
 * (footer key {@code threads}, a JSON object by tid) and, for QEMU captured with {@code --qmp},
 * its vCPU threads (header key {@code vcpus}, a JSON array of tids in vCPU order).
 *
 * <p>Absent or unreadable entries read as empty: names only label threads, they decide nothing
 * that could be wrong without them.
 */
final class ThreadNames {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Header key: QEMU's vCPU thread ids, in vCPU order. */
    static final String KEY_VCPUS = "vcpus";

    private ThreadNames() {
    }

    /** The names by tid from the footer's {@code threads} (null names are dropped). */
    static Map<Integer, String> of(Map<String, String> footer) {
        String json = footer.get("threads");
        Map<Integer, String> out = new TreeMap<>();
        if (json == null) {
            return out;
        }
        try {
            Map<String, String> raw = JSON.readValue(json, new TypeReference<Map<String, String>>() { });
            raw.forEach((tid, name) -> {
                if (name != null) {
                    out.put(Integer.parseInt(tid), name);
                }
            });
        } catch (Exception e) {
            out.clear();
        }
        return out;
    }

    /** QEMU's vCPU thread ids from the header, empty when the capture did not ask QEMU. */
    static List<Integer> vcpus(TraceHeader header) {
        String json = header.extra().get(KEY_VCPUS);
        if (json == null) {
            return List.of();
        }
        try {
            return JSON.readValue(json, new TypeReference<List<Integer>>() { });
        } catch (Exception e) {
            return List.of();
        }
    }
}
