package dev.faultline.analysis.chart;

import dev.faultline.analysis.Format;
import dev.faultline.analysis.GroupStats;
import dev.faultline.analysis.TimeGrid;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.HistogramIterationValue;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.CategoryAxis;
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
    /** Up to this many curves have their p50 and p99 labelled (every curve has them marked); more would crowd the chart. */
    private static final int MARKED_CURVES = 4;
    /** A heatmap is drawn as one image of about this many pixels across, whatever its columns. */
    private static final int HEATMAP_PIXELS_X = 768;
    private static final int HEATMAP_PIXELS_Y = 448;

    private Charts() {
    }

    private static JFreeChart styled(JFreeChart c, String subtitle) {
        c.getTitle().setFont(TITLE);
        c.setBackgroundPaint(Color.WHITE);
        if (subtitle != null) {
            c.addSubtitle(new org.jfree.chart.title.TextTitle(subtitle));
        }
        if (c.getPlot() instanceof XYPlot xy) {
            xy.setBackgroundPaint(new Color(0xf7f7f7));
            xy.setDrawingSupplier(Palette.supplier());
        } else if (c.getPlot() instanceof CategoryPlot cat) {
            cat.setBackgroundPaint(new Color(0xf7f7f7));
            cat.setDrawingSupplier(Palette.supplier());
        }
        return c;
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
        XYLineAndShapeRenderer lines = new XYLineAndShapeRenderer(true, false);
        for (int i = 0; i < data.getSeriesCount(); i++) {
            lines.setSeriesPaint(i, Palette.series(i)); // as the dots of markPercentiles
        }
        XYPlot plot = new XYPlot(data, x, new LatencyAxis(latencyLabel), lines);
        markPercentiles(plot, histograms, names, data.getSeriesCount() <= MARKED_CURVES);
        return styled(new JFreeChart(title, TITLE, plot, true), subtitle);
    }

    /**
     * Marks each curve's p50 and p99 with a dot in its colour (a second dataset on {@code plot}) and,
     * when {@code labelled}, writes the value beside it: where a curve sits between axis labels, the
     * reader still has its figures.
     */
    private static void markPercentiles(XYPlot plot, List<Histogram> histograms, List<String> names, boolean labelled) {
        XYSeriesCollection marks = new XYSeriesCollection();
        XYLineAndShapeRenderer dots = new XYLineAndShapeRenderer(false, true);
        for (int i = 0, series = 0; i < names.size(); i++) {
            Histogram h = histograms.get(i);
            if (h.getTotalCount() == 0) {
                continue;
            }
            XYSeries m = new XYSeries(names.get(i) + " p50, p99", false);
            for (double q : new double[] {50, 99}) {
                double at = Math.log10(1 / (1 - q / 100));
                double v = Math.max(1, h.getValueAtPercentile(q));
                m.add(at, v);
                if (!labelled) {
                    continue;
                }
                org.jfree.chart.annotations.XYTextAnnotation label = new org.jfree.chart.annotations.XYTextAnnotation(
                        String.format(java.util.Locale.ROOT, " p%.0f %s", q, dev.faultline.analysis.Format.nanos(v)), at, v);
                // at each percentile the labels go above and below their dots alternately, from the highest
                // dot down: two curves that sit together get theirs on their outer sides, apart
                label.setTextAnchor(rankFromTop(histograms, q, i) % 2 == 0 ? org.jfree.chart.ui.TextAnchor.BOTTOM_LEFT
                        : org.jfree.chart.ui.TextAnchor.TOP_LEFT);
                label.setPaint(Palette.series(series));
                label.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
                plot.addAnnotation(label);
            }
            marks.addSeries(m);
            dots.setSeriesPaint(series, Palette.series(series));
            dots.setSeriesShape(series, new java.awt.geom.Ellipse2D.Double(-4, -4, 8, 8));
            dots.setSeriesVisibleInLegend(series, false);
            series++;
        }
        plot.setDataset(1, marks);
        plot.setRenderer(1, dots);
    }

    /** Box and whisker per ioctl (categories) and backend × page size (series): box p25-p75, line p50, whiskers p1-p99. */
    public static JFreeChart boxes(String title, String subtitle, List<GroupStats> groups) {
        return boxes(title, subtitle, groups, "fault latency");
    }

    /** The same, with the latency axis labelled {@code latencyLabel}. */
    public static JFreeChart boxes(String title, String subtitle, List<GroupStats> groups, String latencyLabel) {
        List<String> categories = new java.util.ArrayList<>();
        List<String> series = new java.util.ArrayList<>();
        List<Histogram> hs = new java.util.ArrayList<>();
        for (GroupStats g : groups) {
            categories.add(g.key().ioctl());
            series.add(g.key().backend() + " " + dev.faultline.analysis.Format.pageSize(g.key().pageSize())
                    + (g.key().part().isEmpty() ? "" : " " + g.key().part()));
            hs.add(g.latency());
        }
        return boxes(title, subtitle, categories, series, hs, latencyLabel);
    }

    /**
     * Boxes side by side: histogram {@code i} drawn in category {@code categories[i]} as series
     * {@code series[i]}, so that the same category of several files stands together.
     */
    public static JFreeChart boxes(String title, String subtitle, List<String> categories, List<String> series, List<Histogram> histograms,
                                   String latencyLabel) {
        DefaultBoxAndWhiskerCategoryDataset data = new DefaultBoxAndWhiskerCategoryDataset();
        for (int i = 0; i < histograms.size(); i++) {
            addBox(data, histograms.get(i), series.get(i), categories.get(i));
        }
        return boxChart(title, subtitle, data, "group", latencyLabel);
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
                new LatencyAxis(latencyLabel + " (box p25-p75, line p50, whiskers p1-p99)"), r);
        return styled(new JFreeChart(title, TITLE, plot, true), subtitle);
    }

    /**
     * The mean of queue, service and wake stacked per group: where a fault's time goes. Means add up
     * (mean queue + mean service + mean wake = the mean of t_wake - t_fault over faults that have all
     * four times), where stacked medians would not.
     */
    public static JFreeChart decomposition(String title, String subtitle, List<GroupStats> groups) {
        return decomposition(title, subtitle, groups.stream().map(g -> g.key().label()).toList(), groups);
    }

    /**
     * The same, group {@code i} shown as {@code names[i]}. Where one group's mean is over
     * {@link #SHARES_ABOVE} times another's (a 1G page's 180 ms beside 4K pages' 20 µs), µs on one
     * axis would leave the small groups without a visible bar: each part is then drawn as its share
     * of its group's mean, and the mean goes into the group's name.
     */
    public static JFreeChart decomposition(String title, String subtitle, List<String> names, List<GroupStats> groups) {
        double smallest = Double.MAX_VALUE;
        double largest = 0;
        for (GroupStats g : groups) {
            double total = meanMicros(g.queue()) + meanMicros(g.service()) + meanMicros(g.wake());
            if (total > 0) {
                smallest = Math.min(smallest, total);
                largest = Math.max(largest, total);
            }
        }
        boolean shares = largest > SHARES_ABOVE * smallest;
        DefaultCategoryDataset data = new DefaultCategoryDataset();
        for (int i = 0; i < groups.size(); i++) {
            GroupStats g = groups.get(i);
            if (g.queue().getTotalCount() == 0 && g.service().getTotalCount() == 0) {
                continue;
            }
            double q = meanMicros(g.queue());
            double sv = meanMicros(g.service());
            double w = meanMicros(g.wake());
            double total = q + sv + w;
            double scale = shares && total > 0 ? 100 / total : 1;
            String c = shares ? names.get(i) + " · mean " + Format.nanos(total * 1000) : names.get(i);
            data.addValue(q * scale, "queue (t_read - t_fault)", c);
            data.addValue(sv * scale, "service (t_resolve_end - t_read)", c);
            data.addValue(w * scale, "wake (t_wake - t_resolve_end)", c);
        }
        JFreeChart chart = ChartFactory.createStackedBarChart(title, "group", shares
                        ? "% of each group's mean latency (the mean is in its name)"
                        : "µs, mean of each part (the parts add up to the mean latency)",
                data, PlotOrientation.HORIZONTAL, true, false, false);
        ((StackedBarRenderer) chart.getCategoryPlot().getRenderer()).setShadowVisible(false);
        ((StackedBarRenderer) chart.getCategoryPlot().getRenderer()).setBarPainter(new org.jfree.chart.renderer.category.StandardBarPainter());
        // group names as long as "zipf-anon-writeprotect · WRITEPROTECT 4K anon" wrap onto a second line, not cut to "WRITEPR…"
        CategoryAxis groupAxis = chart.getCategoryPlot().getDomainAxis();
        groupAxis.setMaximumCategoryLabelLines(2);
        groupAxis.setMaximumCategoryLabelWidthRatio(0.4f);
        return styled(chart, subtitle);
    }

    /**
     * Where histogram {@code i}'s dot at percentile {@code q} ranks from the top among those with
     * values: how many are higher there (an equal one counts as higher when it comes first).
     */
    private static int rankFromTop(List<Histogram> histograms, double q, int i) {
        double value = Math.max(1, histograms.get(i).getValueAtPercentile(q));
        int above = 0;
        for (int j = 0; j < histograms.size(); j++) {
            Histogram h = histograms.get(j);
            double v = h.getTotalCount() == 0 ? -1 : Math.max(1, h.getValueAtPercentile(q));
            if (v > value || v == value && j < i) {
                above++;
            }
        }
        return above;
    }

    /** How far apart the groups' mean latencies may be before the decomposition shows shares instead of µs. */
    static final double SHARES_ABOVE = 20;

    private static double meanMicros(Histogram h) {
        return h.getTotalCount() == 0 ? 0 : h.getMean() / 1000.0;
    }

    /** Faults per second over time, one line per group. */
    public static JFreeChart rate(String title, String subtitle, List<GroupStats> groups, long t0) {
        return rate(title, subtitle, groups, t0, java.util.Map.of());
    }

    /**
     * The same, with a dashed line where each run of a replay began ({@code runStarts}: run number to
     * its first fault's time, ns): the rate drops to 0 between runs because nothing faults there.
     */
    public static JFreeChart rate(String title, String subtitle, List<GroupStats> groups, long t0, java.util.Map<Integer, Long> runStarts) {
        JFreeChart chart = rateChart(title, subtitle, groups, t0);
        if (runStarts.size() > 1) {
            XYPlot plot = chart.getXYPlot();
            for (java.util.Map.Entry<Integer, Long> e : runStarts.entrySet()) {
                org.jfree.chart.plot.ValueMarker m = new org.jfree.chart.plot.ValueMarker((e.getValue() - t0) / 1e9, Color.DARK_GRAY,
                        new java.awt.BasicStroke(1f, java.awt.BasicStroke.CAP_BUTT, java.awt.BasicStroke.JOIN_MITER, 10f, new float[] {4f, 4f}, 0f));
                m.setLabel("run " + e.getKey());
                m.setLabelAnchor(org.jfree.chart.ui.RectangleAnchor.TOP_RIGHT);
                m.setLabelTextAnchor(org.jfree.chart.ui.TextAnchor.TOP_LEFT);
                plot.addDomainMarker(m);
            }
        }
        return chart;
    }

    private static JFreeChart rateChart(String title, String subtitle, List<GroupStats> groups, long t0) {
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
        int columns = Math.max(1, grid.columns());
        long max = 1;
        int lowRow = grid.rows();
        int highRow = -1;
        for (int c = 0; c < grid.columns(); c++) {
            for (int r = 0; r < grid.rows(); r++) {
                long v = grid.count(c, r);
                max = Math.max(max, v);
                if (v > 0) {
                    lowRow = Math.min(lowRow, r);
                    highRow = Math.max(highRow, r);
                }
            }
        }
        int from = 0;
        int to = grid.rows(); // rows shown: [from, to)
        if (trimRows && highRow >= 0) {
            from = Math.max(0, lowRow - 2);
            to = Math.min(grid.rows(), highRow + 3);
        }
        LookupPaintScale scale = Palette.viridisLog(max);
        // one image, not a shape per cell: an SVG of 16,000 cells was 4-6 MB; blocks of whole pixels stay sharp
        int sx = Math.max(1, HEATMAP_PIXELS_X / columns);
        int sy = Math.max(1, HEATMAP_PIXELS_Y / (to - from));
        java.awt.image.BufferedImage image = new java.awt.image.BufferedImage(columns * sx, (to - from) * sy,
                java.awt.image.BufferedImage.TYPE_INT_RGB);
        java.awt.Graphics2D g = image.createGraphics();
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, image.getWidth(), image.getHeight());
        for (int c = 0; c < grid.columns(); c++) {
            for (int r = from; r < to; r++) {
                long v = grid.count(c, r);
                if (v > 0) {
                    g.setPaint(scale.getPaint(v));
                    g.fillRect(c * sx, (to - 1 - r) * sy, sx, sy); // row 0 at the bottom
                }
            }
        }
        g.dispose();
        double w = grid.width() / 1e9;
        NumberAxis x = new NumberAxis("time since the first fault");
        x.setNumberFormatOverride(AxisFormats.seconds());
        double x0 = (grid.start() - t0) / 1e9;
        x.setRange(x0, x0 + columns * w);
        rowAxis.setRange(from * rowScale, to * rowScale);
        XYPlot plot = new XYPlot(new DefaultXYZDataset(), x, rowAxis, new XYBlockRenderer());
        plot.setBackgroundImage(image);
        plot.setBackgroundImageAlignment(org.jfree.chart.ui.Align.FIT);
        plot.setBackgroundImageAlpha(1f);
        plot.setDomainGridlinesVisible(false);
        plot.setRangeGridlinesVisible(false);
        JFreeChart chart = styled(new JFreeChart(title, TITLE, plot, false), subtitle);
        NumberAxis legendAxis = new NumberAxis("faults per cell");
        legendAxis.setStandardTickUnits(NumberAxis.createIntegerTickUnits()); // counts are whole faults
        legendAxis.setRange(0, max + 1);
        PaintScaleLegend legend = new PaintScaleLegend(scale, legendAxis);
        legend.setSubdivisionCount(64);
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
