package dev.faultline.analysis;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Time grids stay bounded and merge without losing a count. */
class TimeGridTest {
    static long total(TimeGrid g) {
        long n = 0;
        for (int c = 0; c < g.columns(); c++) {
            n += g.columnTotal(c);
        }
        return n;
    }

    @Test
    void boundedAndMergedWhateverTheStarts() {
        TimeGrid a = new TimeGrid(4, 0);
        TimeGrid b = new TimeGrid(4, 0);
        TimeGrid late = new TimeGrid(4);
        for (int i = 0; i < 10_000; i++) {
            a.add(i * 1_000_000L, i % 4);          // 10 s of events: columns widen, never more than MAX_COLUMNS
            b.add(i * 100_000L, (i + 1) % 4);     // 1 s, so finer columns
            late.add(5_000_000_000L + i * 10_000L, 2); // its own start, 5 s in
        }
        assertTrue(a.columns() <= TimeGrid.MAX_COLUMNS && a.width() >= 10_000_000_000L / TimeGrid.MAX_COLUMNS);
        a.merge(b);
        a.merge(late);
        assertEquals(30_000, total(a), "no count lost");
        long inRow2 = 0;
        for (int c = 0; c < a.columns(); c++) {
            inRow2 += a.count(c, 2);
        }
        assertEquals(2_500 + 2_500 + 10_000, inRow2);
    }
}
