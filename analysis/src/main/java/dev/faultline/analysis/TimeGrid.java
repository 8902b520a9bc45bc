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
    private static final int FIRST_SHIFT = 20; // columns of 2^20 ns (about 1 ms) at first, doubled as needed: shifts, not divisions

    private final int rows;
    private final long[] cells; // column-major: cells[col * rows + row]
    private long start = Long.MIN_VALUE;
    private int shift = FIRST_SHIFT;
    private int columns;

    public TimeGrid(int rows) {
        this(rows, Long.MIN_VALUE);
    }

    /** A grid whose first column starts at {@code start} (ns), so that grids of one file can be {@link #merge merged}. */
    public TimeGrid(int rows, long start) {
        this.rows = rows;
        this.cells = new long[MAX_COLUMNS * rows];
        this.start = start;
    }

    /**
     * Adds {@code other}'s counts (a grid of the same rows, e.g. from another thread's share of a
     * file). With the same start the finer of the two is coarsened to the other's column width
     * first; with another start each of its columns is placed by its start time.
     */
    public void merge(TimeGrid other) {
        if (other.rows != rows || other.columns == 0) {
            return;
        }
        if (start == Long.MIN_VALUE) {
            start = other.start;
        }
        if (other.start != start) { // shares that learnt their start apart: place each column by its time
            for (int c = 0; c < other.columns; c++) {
                for (int r = 0; r < rows; r++) {
                    long n = other.cells[c * rows + r];
                    if (n > 0) {
                        add(other.start + ((long) c << other.shift), r);
                        cells[(int) (Math.max(0, other.start + ((long) c << other.shift) - start) >>> shift) * rows + r] += n - 1;
                    }
                }
            }
            return;
        }
        while (shift < other.shift) {
            merge();
        }
        int factor = 1 << (shift - other.shift);
        for (int c = 0; c < other.columns; c++) {
            int col = c / factor;
            for (int r = 0; r < rows; r++) {
                cells[col * rows + r] += other.cells[c * rows + r];
            }
            columns = Math.max(columns, col + 1);
        }
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
        while (d >>> shift >= MAX_COLUMNS) {
            merge();
        }
        int col = (int) (d >>> shift);
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
        shift++;
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
        return 1L << shift;
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
