package dev.faultline.analysis;

/**
 * Counts over time × a small fixed number of rows (log2 latency buckets, offset bands), in at most
 * {@link #MAX_COLUMNS} time columns: when an event falls past the last column, columns are merged
 * pairwise and their width doubles. Memory is bounded whatever the span; adding allocates nothing
 * except when the grid first grows to its full width.
 */
public final class TimeGrid {
    /** Time columns at most. */
    public static final int MAX_COLUMNS = 256;
    private static final long FIRST_WIDTH_NANOS = 1_000_000; // 1 ms, doubled as needed

    private final int rows;
    private final long[] cells; // column-major: cells[col * rows + row]
    private long start = Long.MIN_VALUE;
    private long width = FIRST_WIDTH_NANOS;
    private int columns;

    public TimeGrid(int rows) {
        this.rows = rows;
        this.cells = new long[MAX_COLUMNS * rows];
    }

    /** Counts one event at time {@code t} (ns) in row {@code row} (clamped to the rows there are). */
    public void add(long t, int row) {
        if (start == Long.MIN_VALUE) {
            start = t;
        }
        long d = t - start;
        if (d < 0) {
            d = 0; // rows of several threads arrive slightly out of order: count them in the first column
        }
        while (d / width >= MAX_COLUMNS) {
            merge();
        }
        int col = (int) (d / width);
        int r = Math.max(0, Math.min(rows - 1, row));
        cells[col * rows + r]++;
        columns = Math.max(columns, col + 1);
    }

    private void merge() {
        for (int c = 0; c < MAX_COLUMNS / 2; c++) {
            for (int r = 0; r < rows; r++) {
                cells[c * rows + r] = cells[2 * c * rows + r] + cells[(2 * c + 1) * rows + r];
            }
        }
        java.util.Arrays.fill(cells, MAX_COLUMNS / 2 * rows, cells.length, 0);
        width *= 2;
        columns = (columns + 1) / 2;
    }

    public int rows() {
        return rows;
    }

    /** Columns used so far. */
    public int columns() {
        return columns;
    }

    /** Nanoseconds per column. */
    public long width() {
        return width;
    }

    /** The time of the first event (ns), or Long.MIN_VALUE if none. */
    public long start() {
        return start;
    }

    public long count(int column, int row) {
        return cells[column * rows + row];
    }

    /** All rows of a column. */
    public long columnTotal(int column) {
        long n = 0;
        for (int r = 0; r < rows; r++) {
            n += cells[column * rows + r];
        }
        return n;
    }
}
