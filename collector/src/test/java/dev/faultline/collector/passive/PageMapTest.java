package dev.faultline.collector.passive;

import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The primitive page map agrees with a HashMap over a long random run of puts, gets and removes. */
class PageMapTest {
    @Test
    void agreesWithAHashMap() {
        PageMap<Long> m = new PageMap<>();
        Map<Long, Long> truth = new HashMap<>();
        SplittableRandom rnd = new SplittableRandom(7);
        for (int i = 0; i < 200_000; i++) {
            long page = (1 + rnd.nextInt(5000)) * 4096L;
            switch (rnd.nextInt(3)) {
                case 0 -> {
                    m.put(page, (long) i);
                    truth.put(page, (long) i);
                }
                case 1 -> assertEquals(truth.remove(page), m.remove(page));
                default -> assertEquals(truth.get(page), m.get(page));
            }
            assertEquals(truth.size(), m.size());
        }
        long lo = 100 * 4096L;
        long hi = 4000 * 4096L;
        long any = m.anyIn(lo, hi, 4096);
        boolean expected = truth.keySet().stream().anyMatch(k -> k >= lo && k < hi);
        assertEquals(expected, any != 0);
        if (any != 0) {
            assertEquals(truth.get(any), m.get(any));
        }
    }
}
