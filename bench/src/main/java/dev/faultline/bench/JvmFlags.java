package dev.faultline.bench;

/**
 * The JVM flags every forked benchmark JVM needs (docs/design.md §5), for {@code @Fork(jvmArgsAppend)}:
 * annotations take constants, so the flags are named here once.
 */
final class JvmFlags {
    /** FFM downcalls from unnamed modules. */
    static final String NATIVE_ACCESS = "--enable-native-access=ALL-UNNAMED";
    /** Arrow reaches into java.nio. */
    static final String OPENS_NIO = "--add-opens=java.base/java.nio=ALL-UNNAMED";
    /** Arrow's unsafe allocator. */
    static final String UNSAFE_MEMORY = "--sun-misc-unsafe-memory-access=allow";

    private JvmFlags() {
    }
}
