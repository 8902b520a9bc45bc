package dev.faultline.analysis.chart;

import dev.faultline.analysis.GroupStats;
import dev.faultline.analysis.TimeGrid;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.HistogramIterationValue;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.CategoryAxis;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.LookupPaintScale;
import org.jfree.chart.renderer.category.StackedBarRenderer;
import org.jfree.chart.renderer.category.BoxAndWhiskerRenderer;
import org.jfree.chart.renderer.xy.XYBlockRenderer;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.title.PaintScaleLegend;
import org.jfree.chart.ui.RectangleEdge;
import org.jfree.data.category.DefaultCategoryDataset;
import org.jfree.data.statistics.BoxAndWhiskerItem;
import org.jfree.data.statistics.DefaultBoxAndWhiskerCategoryDataset;
import org.jfree.data.xy.DefaultXYZDataset;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

import java.awt.Color;
import java.awt.Font;
import java.util.List;

/**
 * The analyzer's charts, each a plain JFreeChart: latency axes are logarithmic and labelled in
 * µs/ms, percentile axes in %, time in seconds from the file's first fault. Titles say what is
 * shown and from which file.
 */
public final class Charts {
    private static final Font TITLE = new Font(Font.SANS_SERIF, Font.BOLD, 15);

    private Charts() {
    }

    private static JFreeChart styled(JFreeChart c, String subtitle) {
        c.getTitle().setFont(TITLE);
        c.setBackgroundPaint(Color.WHITE);
        if (subtitle != null) {
            c.addSubtitle(new org.jfree.chart.title.TextTitle(subtitle));
        }
        if (c.getPlot() != null) {
            c.getPlot().setBackgroundPaint(new Color(0xf7f7f7));
        }
        return c;
    }

    private static LogAxis latencyAxis(String label) {
        LogAxis a = new LogAxis(label);
        a.setNumberFormatOverride(AxisFormats.nanos());
        a.setSmallestValue(10);
        return a;
    }

    /** A latency axis for wide ranges: a tick per decade (1 µs, 10 µs, 100 µs, 1 ms). */
    private static LogAxis decadeLatencyAxis(String label) {
        LogAxis a = latencyAxis(label);
        a.setTickUnit(new org.jfree.chart.axis.NumberTickUnit(1));
        a.setMinorTickCount(9);
        a.setMinorTickMarksVisible(true);
        return a;
    }

    /**
     * Latency by percentile, one curve per named histogram: x is log10(1/(1-q)), so that 90%,
     * 99%, 99.9% … are equally apart and the tail gets the room, y the latency on a log axis.
     */
    public static JFreeChart percentiles(String title, String subtitle, List<String> names, List<Histogram> histograms) {
        return percentiles(title, subtitle, names, histograms, "fault latency");
    }

    /** The same, with the latency axis labelled {@code latencyLabel} (which latency it is). */
    public static JFreeChart percentiles(String title, String subtitle, List<String> names, List<Histogram> histograms,
                                         String latencyLabel) {
        XYSeriesCollection data = new XYSeriesCollection();
        for (int i = 0; i < names.size(); i++) {
            Histogram h = histograms.get(i);
            if (h.getTotalCount() == 0) {
                continue;
            }
            XYSeries s = new XYSeries(names.get(i), false);
            for (HistogramIterationValue v : h.percentiles(5)) {
                double q = v.getPercentileLevelIteratedTo() / 100;
                if (q >= 1 || q < 0.01) {
                    continue;
                }
                s.add(Math.log10(1 / (1 - q)), Math.max(1, h.highestEquivalentValue(v.getValueIteratedTo())));
            }
            s.add(5, Math.max(1, h.getMaxValue())); // the max, drawn at 99.999%
            data.addSeries(s);
        }
        NumberAxis x = new NumberAxis("percentile (the max drawn at 99.999%)");
        x.setNumberFormatOverride(AxisFormats.percentile());
        x.setTickUnit(new org.jfree.chart.axis.NumberTickUnit(1));
        x.setRange(0, 5.2);
        XYPlot plot = new XYPlot(data, x, decadeLatencyAxis(latencyLabel), new XYLineAndShapeRenderer(true, false));
        return styled(new JFreeChart(title, TITLE, plot, true), subtitle);
    }

    /** Box and whisker per ioctl (categories) and backend × page size (series): box p25-p75, line p50, whiskers p1-p99. */
    public static JFreeChart boxes(String title, String subtitle, List<GroupStats> groups) {
        return boxes(title, subtitle, groups, "fault latency");
    }

    /** The same, with the latency axis labelled {@code latencyLabel}. */
    public static JFreeChart boxes(String title, String subtitle, List<GroupStats> groups, String latencyLabel) {
        DefaultBoxAndWhiskerCategoryDataset data = new DefaultBoxAndWhiskerCategoryDataset();
        for (GroupStats g : groups) {
            String series = g.key().backend() + " " + dev.faultline.analysis.Format.pageSize(g.key().pageSize())
                    + (g.key().part().isEmpty() ? "" : " " + g.key().part());
            addBox(data, g.latency(), series, g.key().ioctl());
        }
        return boxChart(title, subtitle, data, "ioctl", latencyLabel);
    }

    /** Base and candidate side by side per group: the same boxes as {@link #boxes}. */
    public static JFreeChart pairedBoxes(String title, String subtitle, List<String> groups, List<Histogram> base,
                                         List<Histogram> candidate) {
        DefaultBoxAndWhiskerCategoryDataset data = new DefaultBoxAndWhiskerCategoryDataset();
        for (int i = 0; i < groups.size(); i++) {
            addBox(data, base.get(i), "base", groups.get(i));
            addBox(data, candidate.get(i), "candidate", groups.get(i));
        }
        return boxChart(title, subtitle, data, "group", "fault latency");
    }

    private static void addBox(DefaultBoxAndWhiskerCategoryDataset data, Histogram h, String series, String category) {
        if (h.getTotalCount() == 0) {
            return;
        }
        data.add(new BoxAndWhiskerItem(h.getMean(), (double) h.getValueAtPercentile(50),
                (double) h.getValueAtPercentile(25), (double) h.getValueAtPercentile(75),
                (double) h.getValueAtPercentile(1), (double) h.getValueAtPercentile(99),
                (double) h.getMinValue(), (double) h.getMaxValue(), List.of()), series, category);
    }

    private static JFreeChart boxChart(String title, String subtitle, DefaultBoxAndWhiskerCategoryDataset data, String categories,
                                       String latencyLabel) {
        BoxAndWhiskerRenderer r = new BoxAndWhiskerRenderer();
        r.setMeanVisible(false);
        r.setMaxOutlierVisible(false);
        r.setMinOutlierVisible(false);
        r.setMaximumBarWidth(0.12);
        CategoryPlot plot = new CategoryPlot(data, new CategoryAxis(categories),
                latencyAxis(latencyLabel + " (box p25-p75, line p50, whiskers p1-p99)"), r);
        return styled(new JFreeChart(title, TITLE, plot, true), subtitle);
    }

    /** The p50 of queue, service and wake stacked per group: where a fault's time goes. */
    public static JFreeChart decomposition(String title, String subtitle, List<GroupStats> groups) {
        DefaultCategoryDataset data = new DefaultCategoryDataset();
        for (GroupStats g : groups) {
            if (g.queue().getTotalCount() == 0 && g.service().getTotalCount() == 0) {
                continue;
            }
            String c = g.key().label();
            data.addValue(p50Micros(g.queue()), "queue (t_read - t_fault)", c);
            data.addValue(p50Micros(g.service()), "service (t_resolve_end - t_read)", c);
            data.addValue(p50Micros(g.wake()), "wake (t_wake - t_resolve_end)", c);
        }
        JFreeChart chart = ChartFactory.createStackedBarChart(title, "group", "µs (p50 of each part)", data,
                PlotOrientation.HORIZONTAL, true, false, false);
        ((StackedBarRenderer) chart.getCategoryPlot().getRenderer()).setShadowVisible(false);
        return styled(chart, subtitle);
    }

    private static double p50Micros(Histogram h) {
        return h.getTotalCount() == 0 ? 0 : h.getValueAtPercentile(50) / 1000.0;
    }

    /** Faults per second over time, one line per group. */
    public static JFreeChart rate(String title, String subtitle, List<GroupStats> groups, long t0) {
        XYSeriesCollection data = new XYSeriesCollection();
        for (GroupStats g : groups) {
            TimeGrid grid = g.faultsOverTime();
            if (grid.columns() == 0) {
                continue;
            }
            XYSeries s = new XYSeries(g.key().label(), false);
            double w = grid.width() / 1e9;
            for (int c = 0; c < grid.columns(); c++) {
                s.add((grid.start() - t0) / 1e9 + c * w, grid.count(c, 0) / w);
            }
            data.addSeries(s);
        }
        NumberAxis x = new NumberAxis("time since the first fault");
        x.setNumberFormatOverride(AxisFormats.seconds());
        NumberAxis y = new NumberAxis("faults per second");
        XYPlot plot = new XYPlot(data, x, y, new XYLineAndShapeRenderer(true, false));
        return styled(new JFreeChart(title, TITLE, plot, true), subtitle);
    }

    /**
     * A heatmap of a {@link TimeGrid}: x time since {@code t0}, y the grid's rows labelled by
     * {@code rowAxis}, colour the count (log scale, white for none). With {@code trimRows} the
     * y axis shows only the rows that have counts (and a margin).
     */
    public static JFreeChart heatmap(String title, String subtitle, TimeGrid grid, long t0, NumberAxis rowAxis, double rowScale,
                                     boolean trimRows) {
        int n = Math.max(1, grid.columns()) * grid.rows();
        double[] xs = new double[n];
        double[] ys = new double[n];
        double[] zs = new double[n];
        long max = 1;
        int k = 0;
        int lowRow = grid.rows();
        int highRow = -1;
        double w = grid.width() / 1e9;
        for (int c = 0; c < Math.max(1, grid.columns()); c++) {
            for (int r = 0; r < grid.rows(); r++) {
                long v = grid.columns() == 0 ? 0 : grid.count(c, r);
                xs[k] = (grid.start() - t0) / 1e9 + c * w;
                ys[k] = r * rowScale;
                zs[k] = v;
                max = Math.max(max, v);
                if (v > 0) {
                    lowRow = Math.min(lowRow, r);
                    highRow = Math.max(highRow, r);
                }
                k++;
            }
        }
        DefaultXYZDataset data = new DefaultXYZDataset();
        data.addSeries("count", new double[][] {xs, ys, zs});
        XYBlockRenderer r = new XYBlockRenderer();
        r.setBlockWidth(w);
        r.setBlockHeight(rowScale);
        r.setBlockAnchor(org.jfree.chart.ui.RectangleAnchor.BOTTOM_LEFT);
        LookupPaintScale scale = new LookupPaintScale(0, max + 1, Color.WHITE);
        int steps = 12;
        for (int i = 0; i < steps; i++) {
            double from = Math.max(1, Math.pow(max, (double) i / steps));
            float hue = 0.66f - 0.66f * i / (steps - 1); // blue (few) to red (many)
            scale.add(from, Color.getHSBColor(hue, 0.85f, 0.95f));
        }
        r.setPaintScale(scale);
        NumberAxis x = new NumberAxis("time since the first fault");
        x.setNumberFormatOverride(AxisFormats.seconds());
        if (trimRows && highRow >= 0) {
            rowAxis.setRange(Math.max(0, lowRow - 2) * rowScale, Math.min(grid.rows(), highRow + 3) * rowScale);
        } else {
            rowAxis.setRange(0, grid.rows() * rowScale);
        }
        XYPlot plot = new XYPlot(data, x, rowAxis, r);
        JFreeChart chart = styled(new JFreeChart(title, TITLE, plot, false), subtitle);
        NumberAxis legendAxis = new NumberAxis("faults per cell");
        PaintScaleLegend legend = new PaintScaleLegend(scale, legendAxis);
        legend.setPosition(RectangleEdge.RIGHT);
        legend.setMargin(4, 4, 4, 4);
        chart.addSubtitle(legend);
        return chart;
    }

    /** Rows of a latency heatmap: log2 buckets, labelled as times. */
    public static NumberAxis log2LatencyAxis() {
        NumberAxis a = new NumberAxis("fault latency (log2 buckets)");
        a.setNumberFormatOverride(AxisFormats.log2Nanos());
        a.setTickUnit(new org.jfree.chart.axis.NumberTickUnit(2));
        return a;
    }

    /** Rows of an address map: offsets into the region. */
    public static NumberAxis offsetAxis() {
        NumberAxis a = new NumberAxis("offset in the region");
        a.setNumberFormatOverride(AxisFormats.bytes());
        return a;
    }
}
