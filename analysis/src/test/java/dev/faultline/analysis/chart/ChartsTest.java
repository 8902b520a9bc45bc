package dev.faultline.analysis.chart;

import dev.faultline.analysis.GroupKey;
import dev.faultline.analysis.GroupStats;
import org.HdrHistogram.Histogram;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.annotations.XYTextAnnotation;
import org.jfree.chart.ui.TextAnchor;
import org.jfree.data.category.CategoryDataset;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What the charts draw: the decomposition in µs while the groups are alike, in shares when one
 * dwarfs the rest; percentile labels that do not sit on each other.
 */
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

    @Test
    void percentileLabelsOfTwoCurvesThatSitTogetherGoToTheirOuterSides() {
        // the demo's compare chart had base's p99 label (93.8 µs) drawn over the candidate's (110 µs)
        Histogram base = new Histogram(3);
        Histogram candidate = new Histogram(3);
        for (int i = 0; i < 1000; i++) {
            base.recordValue(35_000 + i * 60);       // p50 ~65 µs, p99 ~94 µs
            candidate.recordValue(63_000 + i * 48);  // p50 ~87 µs, p99 ~110 µs: above base at both
        }
        JFreeChart chart = Charts.percentiles("t", "s", List.of("base", "candidate"), List.of(base, candidate));
        Map<String, TextAnchor> anchors = new HashMap<>();
        for (Object a : chart.getXYPlot().getAnnotations()) {
            XYTextAnnotation label = (XYTextAnnotation) a;
            String curve = label.getPaint().equals(Palette.series(0)) ? "base" : "candidate";
            anchors.put(label.getText().strip().split(" ")[0] + " " + curve, label.getTextAnchor());
        }
        assertEquals(TextAnchor.BOTTOM_LEFT, anchors.get("p99 candidate"), "the higher dot's label above it: " + anchors);
        assertEquals(TextAnchor.TOP_LEFT, anchors.get("p99 base"), "the lower dot's label below it: " + anchors);
        assertEquals(TextAnchor.BOTTOM_LEFT, anchors.get("p50 candidate"), anchors.toString());
        assertEquals(TextAnchor.TOP_LEFT, anchors.get("p50 base"), anchors.toString());
    }
}
