package dev.faultline.analysis.chart;

import dev.faultline.analysis.GroupKey;
import dev.faultline.analysis.GroupStats;
import org.jfree.chart.JFreeChart;
import org.jfree.data.category.CategoryDataset;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What the decomposition chart draws: µs while the groups are alike, shares when one dwarfs the rest. */
class ChartsTest {
    /** A group of {@code n} faults, each queue {@code q}, service {@code s}, wake {@code w} ns. */
    static GroupStats group(long pageSize, int n, long q, long s, long w) {
        GroupStats g = new GroupStats(new GroupKey("COPY", pageSize, "shmem", ""));
        for (int i = 0; i < n; i++) {
            long t = 1_000_000_000L + i * 10_000_000L;
            g.add(t, t + q, t + q + s, t + q + s + w);
        }
        return g;
    }

    @Test
    void partsAreMicrosecondsWhileTheGroupsAreAlikeAndSharesWhenOneIsOverTwentyTimesAnother() {
        GroupStats small = group(4096, 100, 5_000, 10_000, 5_000);        // 20 µs
        GroupStats alike = group(2 << 20, 100, 100_000, 200_000, 100_000); // 400 µs: 20x
        CategoryDataset us = Charts.decomposition("t", "s", List.of(small, alike)).getCategoryPlot().getDataset();
        assertEquals(10.0, us.getValue("service (t_resolve_end - t_read)", "COPY 4K shmem").doubleValue(), 0.1);

        GroupStats huge = group(1 << 30, 3, 1_000_000, 180_000_000, 1_000_000); // 182 ms
        JFreeChart chart = Charts.decomposition("t", "s", List.of(small, huge));
        CategoryDataset shares = chart.getCategoryPlot().getDataset();
        String smallName = (String) shares.getColumnKeys().getFirst();
        assertTrue(smallName.startsWith("COPY 4K shmem · mean 20."), smallName);
        assertEquals(50.0, shares.getValue("service (t_resolve_end - t_read)", smallName).doubleValue(), 1,
                "the 4K group's service is half of its mean");
        assertEquals(25.0, shares.getValue("queue (t_read - t_fault)", smallName).doubleValue(), 1);
        assertTrue(chart.getCategoryPlot().getRangeAxis().getLabel().startsWith("% of each group's mean"),
                chart.getCategoryPlot().getRangeAxis().getLabel());
    }
}
