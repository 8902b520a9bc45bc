package dev.faultline.export;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * A directory of a Hive-style partitioned table, {@code kernel=6.1.0-47-amd64/backend=shmem}: the
 * layout Spark, DuckDB, Trino and Hive read partition columns from. Values are escaped as Hive
 * escapes them ({@code %XX} for anything but letters, digits and {@code . _ + -}); an empty value is
 * Hive's {@code __HIVE_DEFAULT_PARTITION__}, which engines read as null.
 */
public final class HivePartition {
    /** What Hive writes for a null or empty partition value. */
    public static final String DEFAULT = "__HIVE_DEFAULT_PARTITION__";

    private HivePartition() {
    }

    /** {@code root/kernel=…/backend=…}. */
    public static Path of(Path root, String kernel, String backend) {
        return root.resolve("kernel=" + escape(kernel)).resolve("backend=" + escape(backend));
    }

    /** One partition value, escaped for a directory name. */
    public static String escape(String value) {
        if (value == null || value.isEmpty()) {
            return DEFAULT;
        }
        StringBuilder b = new StringBuilder(value.length());
        for (byte c : value.getBytes(StandardCharsets.UTF_8)) {
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_'
                    || c == '+' || c == '-') {
                b.append((char) c);
            } else {
                b.append('%').append(String.format(java.util.Locale.ROOT, "%02X", c & 0xff));
            }
        }
        return b.toString();
    }
}
