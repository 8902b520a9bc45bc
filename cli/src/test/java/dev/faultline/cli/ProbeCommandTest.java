package dev.faultline.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.faultline.core.region.HugePages;
import org.junit.jupiter.api.Test;

import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** {@code faultline probe} on this kernel: the JSON contract and the human table. */
class ProbeCommandTest {
    static JsonNode cell(JsonNode cells, String backend, String mode, String ioctl) {
        for (JsonNode c : cells) {
            if (c.get("backend").asText().equals(backend) && c.get("mode").asText().equals(mode)
                    && c.get("ioctl").asText().equals(ioctl)) {
                return c;
            }
        }
        throw new AssertionError("no cell " + backend + " " + mode + " " + ioctl);
    }

    @Test
    void jsonIsOneObjectWithTheDocumentedKeys() throws Exception {
        CliRun run = CliRun.of("probe", "--json", "--backend", "anon,shmem");
        assertEquals(0, run.exit(), run.err());
        JsonNode o = new ObjectMapper().readTree(run.out());
        for (String key : new String[] {"kernel", "features", "opened_via", "huge_pages", "cells"}) {
            assertTrue(o.has(key), "missing " + key);
        }
        assertTrue(Set.of("syscall", "dev", "user-mode-only").contains(o.get("opened_via").asText()));
        assertTrue(o.get("features").toString().contains("\"MISSING_SHMEM\""));
        JsonNode cells = o.get("cells");
        assertEquals(2 * 3 * 6, cells.size());
        for (JsonNode c : cells) {
            assertEquals(c.get("supported").asBoolean(), c.get("errno").isNull() && c.get("stage").isNull(), c.toString());
        }
        assertTrue(cell(cells, "anon", "MISSING", "MOVE").get("supported").asBoolean());
        assertEquals("EINVAL", cell(cells, "shmem", "MISSING", "MOVE").get("errno").asText(), "MOVE is anon-only");
        assertTrue(cell(cells, "shmem", "MINOR", "CONTINUE").get("supported").asBoolean());
        assertTrue(run.err().contains("probing anon"), "progress goes to stderr: " + run.err());
    }

    @Test
    void hugetlbZeropageIsEinval() throws Exception {
        assumeTrue(HugePages.free(2L << 20) >= 2, "needs free 2M huge pages: " + HugePages.reserveHint(2L << 20, 64));
        CliRun run = CliRun.of("probe", "--json", "--backend", "hugetlb2m");
        JsonNode o = new ObjectMapper().readTree(run.out());
        JsonNode z = cell(o.get("cells"), "hugetlb2m", "MISSING", "ZEROPAGE");
        assertFalse(z.get("supported").asBoolean());
        assertEquals("EINVAL", z.get("errno").asText());
        assertTrue(cell(o.get("cells"), "hugetlb2m", "MISSING", "COPY").get("supported").asBoolean());
        assertTrue(o.get("huge_pages").has("2097152"));
    }

    @Test
    void tableHasARowPerBackendAndModeAndAColumnPerIoctl() {
        CliRun run = CliRun.of("probe", "--backend", "anon,guest_memfd", "-v");
        assertEquals(0, run.exit(), run.err());
        assertTrue(run.out().contains("COPY         ZEROPAGE     CONTINUE     WRITEPROTECT MOVE         POISON"), run.out());
        Set<String> rows = new TreeSet<>();
        run.out().lines().filter(l -> l.matches("^(anon|guest_memfd) +(MISSING|WP|MINOR) .*"))
                .forEach(l -> rows.add(l.split(" +")[0] + " " + l.split(" +")[1]));
        assertEquals(6, rows.size(), run.out());
        assertTrue(run.out().lines().anyMatch(l -> l.matches("^anon +MISSING +ok +ok +EINVAL +\\S+ +ok +ok$")), run.out());
        assertTrue(run.out().contains("UFFDIO_REGISTER"), "-v explains refusals");
    }

    @Test
    void unknownBackendIsAUsageError() {
        CliRun run = CliRun.of("probe", "--backend", "tmpfs");
        assertEquals(2, run.exit());
        assertTrue(run.err().contains("unknown backend 'tmpfs'"), run.err());
    }
}
