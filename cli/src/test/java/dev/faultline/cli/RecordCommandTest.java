package dev.faultline.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.faultline.core.trace.TraceEvent;
import dev.faultline.core.trace.TraceReader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code faultline record} end to end: what it writes, what inspect says of it, and a SIGKILL mid-run. */
class RecordCommandTest {

    @Test
    void recordThenInspectAgree(@TempDir Path dir) throws Exception {
        Path t = dir.resolve("t.arrow");
        CliRun rec = CliRun.of("record", "--workload", "random", "--backend", "shmem", "--pages", "100000", "-o", t.toString(), "--json");
        assertEquals(0, rec.exit(), rec.err());
        JsonNode s = new ObjectMapper().readTree(rec.out());
        assertEquals(100000, s.get("faults").asLong());
        assertEquals(100000, s.get("events").asLong());
        assertEquals(0, s.get("lost_events").asLong());
        assertTrue(s.get("p50_ns").asLong() > 0);

        CliRun inspect = CliRun.of("inspect", t.toString());
        assertEquals(0, inspect.exit(), inspect.err());
        assertTrue(inspect.out().contains("rows by kind     PAGEFAULT 100000\n"), inspect.out());
        assertTrue(inspect.out().contains("rows by ioctl    COPY 100000\n"), inspect.out());
        assertTrue(inspect.out().contains("rows by backend  shmem 4K 100000"), inspect.out());
        assertTrue(inspect.out().contains("lost_events=0"), inspect.out());
        assertTrue(inspect.out().contains("workload    random"), inspect.out());
    }

    @Test
    void anExistingTraceIsKeptAndRefusalsTouchNothing(@TempDir Path dir) throws Exception {
        Path t = dir.resolve("t.arrow");
        assertEquals(0, CliRun.of("record", "--pages", "100", "-o", t.toString()).exit());
        CliRun again = CliRun.of("record", "--pages", "200", "-o", t.toString());
        assertEquals(0, again.exit(), again.err());
        assertTrue(again.err().contains("kept the previous " + t + " as " + t + ".old"), again.err());
        assertTrue(Files.exists(dir.resolve("t.arrow.old")));

        CliRun refused = CliRun.of("record", "--backend", "shmem", "--resolve", "move", "-o", dir.resolve("m.arrow").toString());
        assertEquals(1, refused.exit());
        assertEquals(1, refused.err().strip().lines().count(), refused.err());
        assertTrue(refused.err().startsWith("faultline record: shmem cannot resolve MISSING faults with MOVE"), refused.err());
        assertFalse(Files.exists(dir.resolve("m.arrow")), "no file for a run that never started");

        CliRun bogus = CliRun.of("record", "--workload", "bogus");
        assertEquals(2, bogus.exit(), "a word no option takes is a usage error");
        assertTrue(bogus.err().contains("--workload: unknown value 'bogus' (expected sequential, random, strided, zipf, restore)"), bogus.err());

        CliRun usage = CliRun.of("record", "--resolve", "wp", "--touch", "read");
        assertEquals(1, usage.exit());
        assertTrue(usage.err().contains("wp faults come from writes"), usage.err());
    }

    @Test
    void aRecordingKilledWithSigkillLeavesEveryFlushedRow(@TempDir Path dir) throws Exception {
        Path t = dir.resolve("killed.arrow");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED",
                "--add-opens=java.base/java.nio=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow",
                "-cp", System.getProperty("java.class.path"), Faultline.class.getName(),
                "record", "--workload", "sequential", "--backend", "anon", "--pages", "200000", "--rate", "20000",
                "-o", t.toString()));
        Process p = new ProcessBuilder(cmd).start();
        Pattern flushed = Pattern.compile("([0-9,]+) rows in the file");
        long lastReported = -1;
        int reports = 0;
        int firstNonEmpty = -1;
        try (BufferedReader err = new BufferedReader(new InputStreamReader(p.getErrorStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = err.readLine()) != null) {
                Matcher m = flushed.matcher(line);
                if (m.find()) {
                    reports++;
                    lastReported = Long.parseLong(m.group(1).replace(",", ""));
                    if (lastReported > 0 && firstNonEmpty < 0) {
                        firstNonEmpty = reports;
                    }
                    if (lastReported >= 20_000) {
                        break;
                    }
                }
            }
            assertTrue(lastReported >= 20_000, "progress reached 20k flushed rows before the process ended");
            // progress comes once a second and the writer flushes every half second, even though the
            // paced faulting thread and the spinning handler keep both cores busy
            assertTrue(firstNonEmpty >= 1 && firstNonEmpty <= 2, "rows reached the file by the 2nd report, not the " + firstNonEmpty + "th");
            p.destroyForcibly(); // SIGKILL
            assertTrue(p.waitFor(10, TimeUnit.SECONDS));
            assertEquals(137, p.exitValue(), "killed by SIGKILL");
        }

        long rows = 0;
        try (TraceReader r = TraceReader.open(t)) {
            assertTrue(r.recovered(), "no footer: the writer never finished");
            TraceEvent e = new TraceEvent();
            while (r.nextBatch()) {
                for (int i = 0; i < r.batchRows(); i++) {
                    r.read(i, e);
                    assertEquals(rows, e.seq, "rows are contiguous from the start");
                    assertEquals(rows * 4096, e.offset, "the sequential workload's pages, in order");
                    rows++;
                }
            }
            assertTrue(r.recoveryNote().contains(rows + " rows"), r.recoveryNote());
        }
        assertTrue(rows >= lastReported, rows + " rows recovered, " + lastReported + " were reported flushed");
        assertTrue(rows < 200_000, "the run was cut short");

        CliRun inspect = CliRun.of("inspect", t.toString());
        assertEquals(0, inspect.exit(), inspect.err());
        assertTrue(inspect.out().contains("RECOVERED"), inspect.out());
    }
}
