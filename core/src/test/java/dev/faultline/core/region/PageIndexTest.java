package dev.faultline.core.region;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.stream.LongStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** PageIndex answers as a binary search of its list would, through its table or without one. */
class PageIndexTest {

    static void agreesWithBinarySearch(long[] sorted, long from, long to) {
        PageIndex index = new PageIndex(sorted);
        for (long page = from; page < to; page++) {
            int i = Arrays.binarySearch(sorted, page);
            assertEquals(i >= 0 ? i : -1, index.find(page), "page " + page);
        }
    }

    @Test
    void aWholeRegionWithGapsGetsATable() {
        SplittableRandom r = new SplittableRandom(7);
        long[] pages = LongStream.range(1000, 11000).filter(p -> r.nextInt(3) > 0).toArray(); // two thirds of 10,000
        assertTrue(new PageIndex(pages).dense());
        agreesWithBinarySearch(pages, 0, 12000);
        assertEquals(-1, new PageIndex(pages).find(Long.MIN_VALUE));
        assertEquals(-1, new PageIndex(pages).find(Long.MAX_VALUE));
    }

    @Test
    void aFewPagesOfAHugeRegionAreSearched() {
        long[] pages = {3, 1L << 20, (1L << 30) + 5, 1L << 40};
        assertFalse(new PageIndex(pages).dense(), "a table would span 2^40 pages");
        agreesWithBinarySearch(pages, 0, 10);
        assertEquals(3, new PageIndex(pages).find(1L << 40));
        assertEquals(-1, new PageIndex(pages).find((1L << 40) + 1));
    }

    @Test
    void noPagesFindsNothing() {
        assertEquals(-1, new PageIndex(new long[0]).find(0));
    }
}
