package dev.faultline.analysis.chart;

import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.svg.SVGGraphics2D;

import java.awt.Rectangle;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Writes a chart as NAME.png and NAME.svg (the same drawing: JFreeChart on AWT, then on an SVG Graphics2D). */
public final class ChartFiles {
    /** Default chart size in pixels. */
    public static final int WIDTH = 900;
    public static final int HEIGHT = 520;

    static {
        System.setProperty("java.awt.headless", "true"); // charts are drawn off-screen, also where there is no display
    }

    private ChartFiles() {
    }

    /** Writes {@code dir/NAME.png} and {@code dir/NAME.svg}; returns NAME.png's file name. */
    public static String write(JFreeChart chart, Path dir, String name) throws IOException {
        return write(chart, dir, name, WIDTH, HEIGHT);
    }

    public static String write(JFreeChart chart, Path dir, String name, int width, int height) throws IOException {
        ChartUtils.saveChartAsPNG(dir.resolve(name + ".png").toFile(), chart, width, height);
        SVGGraphics2D g = new SVGGraphics2D(width, height);
        chart.draw(g, new Rectangle(0, 0, width, height));
        Files.writeString(dir.resolve(name + ".svg"), g.getSVGDocument(), StandardCharsets.UTF_8);
        return name + ".png";
    }
}
