package dev.faultline.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code faultline analyze} and {@code compare} on real recordings and replays. */
class AnalyzeCompareCommandTest {

    @Test
    void twoReplaysOfOneTraceAreNoChangeAndADelayIsARegression(@TempDir Path dir) throws Exception {
        Path t = dir.resolve("t.arrow");
        assertEquals(0, CliRun.of("record", "--workload", "random", "--backend", "shmem", "--pages", "20000", "-o", t.toString()).exit());
        // this JVM runs all the replays: warm it first, as each CLI run's own warm-up run does
        assertEquals(0, CliRun.of("replay", t.toString(), "--runs", "3", "--no-results").exit());
        // A and B interleaved, one run each, so that the drift of this busy machine hits both alike
        StringBuilder as = new StringBuilder();
        StringBuilder bs = new StringBuilder();
        for (int i = 0; i < 6; i++) {
            for (StringBuilder side : new StringBuilder[] {as, bs}) {
                Path out = dir.resolve((side == as ? "a" : "b") + i + ".arrow");
                CliRun r = CliRun.of("replay", t.toString(), "--runs", "1", "-o", out.toString());
                assertEquals(0, r.exit(), r.err());
                side.append(side.isEmpty() ? "" : ",").append(out);
            }
        }
        Path slow = dir.resolve("slow.arrow");
        CliRun s = CliRun.of("replay", t.toString(), "--runs", "5", "--delay", "50us", "-o", slow.toString());
        assertEquals(0, s.exit(), s.err());

        CliRun same = CliRun.of("compare", as.toString(), bs.toString(), "-o", dir.resolve("same").toString());
        assertEquals(0, same.exit(), same.out() + same.err());
        assertTrue(same.out().contains("COPY 4K shmem            => NO CHANGE (on p50; resampled 6 vs 6 runs)"), same.out());

        CliRun worse = CliRun.of("compare", as.toString(), slow.toString(), "-o", dir.resolve("worse").toString());
        assertEquals(CompareCommand.EXIT_REGRESSION, worse.exit(), worse.out() + worse.err());
        assertTrue(worse.out().contains("COPY 4K shmem            => REGRESSION"), worse.out());
        JsonNode j = new ObjectMapper().readTree(dir.resolve("worse/summary.json").toFile());
        assertTrue(j.get("regression").asBoolean());
        assertTrue(j.get("groups").get(0).get("p50_ratio").asDouble() > 2, "50 µs on top of ~20 µs");
        assertTrue(Files.size(dir.resolve("worse/percentiles-copy-4k-shmem.png")) > 5_000);

        CliRun analyze = CliRun.of("analyze", t.toString(), slow.toString(), "--by", "run", "-o", dir.resolve("report").toString());
        assertEquals(0, analyze.exit(), analyze.err());
        assertTrue(analyze.out().contains("COPY 4K shmem run=4"), analyze.out());
        JsonNode r = new ObjectMapper().readTree(dir.resolve("report/summary.json").toFile());
        assertEquals(1.0, r.get("jaccard").get(0).get(1).asDouble(), 1e-9, "a replay faults the recording's pages");
        assertEquals(20000, r.get("files").get(0).get("working_set").get("unique_pages").asLong());
    }

    @Test
    void aGateCannotPassOnMissingData(@TempDir Path dir) throws Exception {
        Path traces = Path.of(System.getProperty("faultline.root", "..")).resolve("traces");
        String shmem = traces.resolve("sequential-shmem-copy.arrow").toString();
        String wp = traces.resolve("wp-tracker-anon.arrow").toString();
        String anon = traces.resolve("random-anon-copy.arrow").toString();
        String minor = traces.resolve("minor-shmem-continue.arrow").toString();

        CliRun incomplete = CliRun.of("compare", shmem + "," + wp, shmem, "-o", dir.resolve("a").toString());
        assertEquals(4, incomplete.exit(), incomplete.out() + incomplete.err());
        assertTrue(incomplete.out().contains("WRITEPROTECT 4K anon     => MISSING: faults only in the base (2,646 base, 0 candidate)"),
                incomplete.out());
        assertTrue(incomplete.out().contains("INCOMPLETE: WRITEPROTECT 4K anon only in the base"), incomplete.out());
        JsonNode j = new ObjectMapper().readTree(dir.resolve("a/summary.json").toFile());
        assertEquals("incomplete", j.get("outcome").asText());
        assertTrue(Files.readString(dir.resolve("a/index.html")).contains("INCOMPLETE"));
        CliRun allowed = CliRun.of("compare", shmem + "," + wp, shmem, "-o", dir.resolve("a").toString(), "--allow-missing");
        assertEquals(0, allowed.exit(), allowed.out() + allowed.err());
        assertTrue(allowed.out().contains("INCOMPLETE: "), "--allow-missing still says what is missing: " + allowed.out());

        CliRun disjoint = CliRun.of("compare", shmem + "," + wp, anon + "," + minor, "-o", dir.resolve("b").toString());
        assertEquals(5, disjoint.exit(), disjoint.out() + disjoint.err());
        assertTrue(disjoint.out().contains("NOTHING COMPARED: no group has faults on both sides: the base has COPY 4K shmem, "
                + "WRITEPROTECT 4K anon, the candidate CONTINUE 4K shmem, COPY 4K anon"), disjoint.out());

        // a candidate cut off before its first batch (a killed replay): it reads, with no row
        Path cut = dir.resolve("cut.arrow");
        Files.write(cut, java.util.Arrays.copyOf(Files.readAllBytes(Path.of(shmem)), 3000));
        CliRun empty = CliRun.of("compare", shmem, cut.toString(), "-o", dir.resolve("c").toString());
        assertEquals(5, empty.exit(), empty.out() + empty.err());
        assertTrue(empty.out().contains("NOTHING COMPARED: the candidate holds no fault (the base: 4,000)"), empty.out());
        assertEquals(0, CliRun.of("compare", shmem, cut.toString(), "-o", dir.resolve("c").toString(), "--allow-missing").exit());
    }

    @Test
    void refusalsAreOneLine(@TempDir Path dir) throws Exception {
        Path mine = dir.resolve("mine");
        Files.createDirectories(mine);
        Files.writeString(mine.resolve("notes.txt"), "keep");
        Path t = dir.resolve("t.arrow");
        assertEquals(0, CliRun.of("record", "--pages", "100", "-o", t.toString()).exit());
        CliRun wrongDir = CliRun.of("analyze", t.toString(), "-o", mine.toString());
        assertEquals(1, wrongDir.exit());
        assertEquals(1, wrongDir.err().strip().lines().count(), wrongDir.err());
        assertTrue(wrongDir.err().contains("is not empty and is not a Faultline report"), wrongDir.err());
        assertEquals("keep", Files.readString(mine.resolve("notes.txt")));

        Path foreign = dir.resolve("x.arrow");
        Files.writeString(foreign, "hello");
        CliRun bad = CliRun.of("compare", t.toString(), foreign.toString(), "-o", dir.resolve("c").toString());
        assertEquals(1, bad.exit());
        assertEquals(1, bad.err().strip().lines().count(), bad.err());
        assertFalse(Files.exists(dir.resolve("c")), "no report for a failed comparison");
        CliRun by = CliRun.of("analyze", t.toString(), "--by", "colour");
        assertEquals(2, by.exit());
        assertTrue(by.err().contains("--by: unknown value 'colour'"), by.err());
    }
}
