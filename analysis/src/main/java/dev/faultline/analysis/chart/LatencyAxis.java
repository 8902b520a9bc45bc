package dev.faultline.analysis.chart;

import org.jfree.chart.axis.AxisState;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.LogTick;
import org.jfree.chart.axis.TickType;
import org.jfree.chart.ui.RectangleEdge;
import org.jfree.chart.ui.TextAnchor;
import org.jfree.data.Range;

import java.awt.Graphics2D;
import java.awt.geom.Rectangle2D;
import java.text.AttributedString;
import java.util.ArrayList;
import java.util.List;

/**
 * A logarithmic nanosecond axis labelled at every decade (1 µs, 10 µs, 100 µs …) and, when it
 * spans less than five decades, at 2× and 5× too, so that a curve sitting between two decades
 * still has a label near it. The other integer multiples are unlabelled minor ticks.
 *
 * <p>Labels are times ({@link AxisFormats#nanos()}); values below {@link #getSmallestValue()} are not drawn.
 */
final class LatencyAxis extends LogAxis {
    private static final int[] LABELLED_NARROW = {1, 2, 5};

    LatencyAxis(String label) {
        super(label);
        setNumberFormatOverride(AxisFormats.nanos());
        setSmallestValue(10);
        setMinorTickMarksVisible(true);
    }

    @Override
    @SuppressWarnings({"rawtypes", "unchecked"})
    public List refreshTicks(Graphics2D g2, AxisState state, Rectangle2D dataArea, RectangleEdge edge) {
        Range range = getRange();
        double low = Math.max(getSmallestValue(), range.getLowerBound());
        double high = range.getUpperBound();
        boolean narrow = Math.log10(high / low) < 5;
        TextAnchor anchor = edge == RectangleEdge.RIGHT ? TextAnchor.CENTER_LEFT
                : edge == RectangleEdge.TOP ? TextAnchor.BOTTOM_CENTER
                : edge == RectangleEdge.BOTTOM ? TextAnchor.TOP_CENTER : TextAnchor.CENTER_RIGHT;
        List ticks = new ArrayList();
        for (int exp = (int) Math.floor(Math.log10(low)); exp <= (int) Math.ceil(Math.log10(high)); exp++) {
            double decade = Math.pow(10, exp);
            for (int m = 1; m <= 9; m++) {
                double v = m * decade;
                if (!range.contains(v) || v < getSmallestValue()) {
                    continue;
                }
                boolean labelled = m == 1 || narrow && contains(LABELLED_NARROW, m);
                ticks.add(new LogTick(labelled ? TickType.MAJOR : TickType.MINOR, v,
                        labelled ? new AttributedString(AxisFormats.nanos().format(v)) : null, anchor));
            }
        }
        return ticks;
    }

    private static boolean contains(int[] a, int v) {
        for (int x : a) {
            if (x == v) {
                return true;
            }
        }
        return false;
    }
}
