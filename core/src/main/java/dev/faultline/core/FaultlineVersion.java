package dev.faultline.core;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/** The version of Faultline this code was built as (from the build, e.g. {@code 0.1.0-SNAPSHOT}). */
public final class FaultlineVersion {
    private static final String VERSION = load();

    private FaultlineVersion() {
    }

    /** The build's version string, or {@code "unknown"} when run from unfiltered sources. */
    public static String get() {
        return VERSION;
    }

    private static String load() {
        try (InputStream in = FaultlineVersion.class.getResourceAsStream("version.properties")) {
            if (in == null) {
                return "unknown";
            }
            Properties p = new Properties();
            p.load(in);
            String v = p.getProperty("version", "unknown");
            return v.startsWith("${") ? "unknown" : v;
        } catch (IOException e) {
            return "unknown";
        }
    }
}
