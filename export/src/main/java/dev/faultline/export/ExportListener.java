package dev.faultline.export;

/** Told of an export's progress, from the exporting threads. */
public interface ExportListener {
    /** Says nothing. */
    ExportListener QUIET = new ExportListener() {
        @Override
        public void rows(long rows) {
        }

        @Override
        public void exported(ExportedTrace done) {
        }
    };

    /** {@code rows} more rows written (of any trace). */
    void rows(long rows);

    /** A trace is done. */
    void exported(ExportedTrace done);
}
