package dev.faultline.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An independent in-kernel count of a process's UFFDIO_* ioctls, for tests to check a capture
 * against: a count-only bpftrace program (no Faultline code) that keeps, per ioctl nr, the calls,
 * the failed calls, the bytes their ranges covered and the sum of their first pages' numbers (a
 * checksum of where they were), read at the call's entry; it prints its maps when the process exits.
 */
final class UffdIoctlCount implements AutoCloseable {
    /** Per ioctl nr (_UFFDIO_COPY = 3 …): calls, errors, bytes, page-number sum. */
    record Counts(long calls, long errors, long bytes, long pageSum) {
    }

    private static final Pattern LINE = Pattern.compile("^@(\\w+)\\[(\\d+)\\]: (-?\\d+)$");

    private final Process bpftrace;
    private final List<String> lines = new ArrayList<>();
    private final Thread reader;

    private UffdIoctlCount(Process bpftrace) {
        this.bpftrace = bpftrace;
        reader = Thread.ofPlatform().daemon().start(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(bpftrace.getInputStream(), StandardCharsets.UTF_8))) {
                String l;
                while ((l = r.readLine()) != null) {
                    synchronized (lines) {
                        lines.add(l.strip());
                    }
                }
            } catch (IOException ignored) {
                // bpftrace is gone
            }
        });
    }

    static boolean available() {
        return Files.isExecutable(Path.of("/usr/bin/bpftrace"));
    }

    /** Starts counting the ioctls of {@code pid}; returns once bpftrace's probes are attached. */
    static UffdIoctlCount start(long pid, Path dir) throws Exception {
        // BEGIN runs once every probe is attached ("Attaching N probes" is printed before): nothing is missed after it
        String script = """
                BEGIN { printf("counting\\n"); }
                tracepoint:syscalls:sys_enter_ioctl /pid == PID && ((args->cmd >> 8) & 0xff) == 0xaa/ {
                  $nr = args->cmd & 0xff;
                  $a = args->arg;
                  if ($nr == 3 || $nr == 5) {
                    @dst[tid] = *(uint64 *)uptr($a); @len[tid] = *(uint64 *)uptr($a + 16);
                  } else {
                    @dst[tid] = *(uint64 *)uptr($a); @len[tid] = *(uint64 *)uptr($a + 8);
                  }
                  @nr[tid] = $nr + 1;
                }
                tracepoint:syscalls:sys_exit_ioctl /@nr[tid]/ {
                  $nr = @nr[tid] - 1;
                  @calls[$nr] = count();
                  if (args->ret < 0) { @errors[$nr] = count(); }
                  @bytes[$nr] = sum(@len[tid]);
                  @pages[$nr] = sum(@dst[tid] >> 12);
                  delete(@nr[tid]); delete(@dst[tid]); delete(@len[tid]);
                }
                tracepoint:sched:sched_process_exit /pid == PID && tid == PID/ { exit(); }
                END { clear(@nr); clear(@dst); clear(@len); }
                """.replace("PID", Long.toString(pid));
        Path file = dir.resolve("count.bt");
        Files.writeString(file, script);
        Process p = new ProcessBuilder("bpftrace", "--no-warnings", file.toString()).redirectErrorStream(true).start();
        UffdIoctlCount c = new UffdIoctlCount(p);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!c.saw("counting")) {
            if (!p.isAlive() || System.nanoTime() > deadline) {
                p.destroyForcibly();
                throw new IllegalStateException("bpftrace did not attach: " + c.output());
            }
            Thread.sleep(20);
        }
        return c;
    }

    private boolean saw(String prefix) {
        synchronized (lines) {
            return lines.stream().anyMatch(l -> l.startsWith(prefix));
        }
    }

    private String output() {
        synchronized (lines) {
            return String.join(" | ", lines);
        }
    }

    /** Waits for the process's exit to end bpftrace (or interrupts it after {@code millis}) and reads its counts by nr. */
    Map<Integer, Counts> finish(long millis) throws Exception {
        if (!bpftrace.waitFor(millis, TimeUnit.MILLISECONDS)) {
            new ProcessBuilder("kill", "-INT", Long.toString(bpftrace.pid())).start().waitFor();
            bpftrace.waitFor(10, TimeUnit.SECONDS);
        }
        reader.join(5000);
        Map<String, Map<Integer, Long>> maps = new TreeMap<>();
        synchronized (lines) {
            for (String l : lines) {
                Matcher m = LINE.matcher(l);
                if (m.matches()) {
                    maps.computeIfAbsent(m.group(1), k -> new TreeMap<>()).put(Integer.parseInt(m.group(2)), Long.parseLong(m.group(3)));
                }
            }
        }
        Map<Integer, Counts> out = new TreeMap<>();
        for (int nr : maps.getOrDefault("calls", Map.of()).keySet()) {
            out.put(nr, new Counts(maps.get("calls").get(nr), maps.getOrDefault("errors", Map.of()).getOrDefault(nr, 0L),
                    maps.getOrDefault("bytes", Map.of()).getOrDefault(nr, 0L), maps.getOrDefault("pages", Map.of()).getOrDefault(nr, 0L)));
        }
        return out;
    }

    @Override
    public void close() {
        bpftrace.destroyForcibly();
    }
}
