package dev.faultline.analysis.chart;

import org.jfree.chart.plot.DefaultDrawingSupplier;
import org.jfree.chart.plot.DrawingSupplier;
import org.jfree.chart.renderer.LookupPaintScale;

import java.awt.Color;
import java.awt.Paint;

/**
 * Colours people with any common colour vision can tell apart: Okabe and Ito's eight for series
 * (blue first, so a comparison's base is never red), and viridis for heatmaps (dark for few,
 * yellow for many, even steps in lightness).
 */
final class Palette {
    /** Okabe-Ito, without its black: blue, orange, bluish green, vermillion, sky blue, reddish purple, yellow, grey. */
    static final Color[] SERIES = {
        new Color(0x0072B2), new Color(0xE69F00), new Color(0x009E73), new Color(0xD55E00),
        new Color(0x56B4E9), new Color(0xCC79A7), new Color(0xF0E442), new Color(0x999999),
    };

    /** Viridis at 12 even steps, from its dark purple to its yellow. */
    private static final Color[] VIRIDIS = {
        new Color(0x440154), new Color(0x482173), new Color(0x433E85), new Color(0x38598C),
        new Color(0x2D708E), new Color(0x25858E), new Color(0x1E9B8A), new Color(0x2BB07F),
        new Color(0x51C56A), new Color(0x85D54A), new Color(0xC2DF23), new Color(0xFDE725),
    };

    private Palette() {
    }

    /** Series paints in the order above, then JFreeChart's own defaults for outlines, strokes and shapes. */
    static DrawingSupplier supplier() {
        return new DefaultDrawingSupplier(SERIES.clone(), DefaultDrawingSupplier.DEFAULT_FILL_PAINT_SEQUENCE,
                DefaultDrawingSupplier.DEFAULT_OUTLINE_PAINT_SEQUENCE, DefaultDrawingSupplier.DEFAULT_STROKE_SEQUENCE,
                DefaultDrawingSupplier.DEFAULT_OUTLINE_STROKE_SEQUENCE, DefaultDrawingSupplier.DEFAULT_SHAPE_SEQUENCE);
    }

    /** The paint of series {@code i}. */
    static Paint series(int i) {
        return SERIES[i % SERIES.length];
    }

    /** Viridis on a log scale of counts 1..max; 0 (nothing there) is white. */
    static LookupPaintScale viridisLog(long max) {
        LookupPaintScale scale = new LookupPaintScale(0, max + 1, Color.WHITE);
        for (int i = 0; i < VIRIDIS.length; i++) {
            scale.add(Math.max(1, Math.pow(max, (double) i / VIRIDIS.length)), VIRIDIS[i]);
        }
        return scale;
    }
}
