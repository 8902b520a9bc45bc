package dev.faultline.cli;

import dev.faultline.export.ExportSchema;
import dev.faultline.export.ParquetExport;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/** {@code faultline export}: traces and replay results as partitioned Parquet, for Spark, DuckDB, Trino. */
@Command(name = "export", sortOptions = false, usageHelpAutoWidth = true, mixinStandardHelpOptions = true,
        description = {
            "Export traces and replay results as Parquet (ZSTD) for the engines fleets already run (Spark, DuckDB, "
                + "Trino, BigQuery): every row, one file per trace and backend, under DIR/kernel=RELEASE/backend=NAME/ "
                + "(Hive-style: engines read kernel and backend from the directory names).",
            "",
            "Columns: the trace's trace (file name), host, source, command, started_at on every row; the trace's own "
                + "columns (seq, kind, region, region_name, offset, address, flags, tid, page_size, ioctl, resolve_offset, "
                + "resolve_length, result, resolve_mode, t_fault, t_read, t_resolve_start, t_resolve_end, t_wake, run); "
                + "and latency_ns as analyze defines it (t_wake - t_fault, else t_resolve_end - t_fault, else "
                + "t_resolve_end - t_read). Times are the recording host's CLOCK_MONOTONIC ns, null where not seen.",
            "",
            "Files appear only once complete (written under hidden .partial names, which engines skip); a trace "
                + "exported again replaces its own files. Memory stays bounded whatever the traces' length. The "
                + "fleet job (docs/fleet.md) turns such a directory into faultline summaries by kernel, host or any "
                + "column.",
            "",
            "Examples:",
            "  faultline export /var/lib/faultline/*.arrow -o /data/faultline",
            "  duckdb -c \"SELECT kernel, backend, ioctl, count(*), quantile_cont(latency_ns, 0.99) "
                + "FROM read_parquet('/data/faultline/**/*.parquet', hive_partitioning=true) WHERE kind='PAGEFAULT' GROUP BY ALL\""})
final class ExportCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(paramLabel = "FILE", arity = "1..*", description = "Traces or replay results (not summary captures: they hold no row per fault).")
    List<Path> files;

    @Option(names = {"-o", "--output"}, paramLabel = "DIR", required = true,
            description = "The table's root directory: created if missing; traces already there stay, this export's are added or replaced.")
    Path output;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        ProgressLine progress = new ProgressLine(spec.commandLine().getErr());
        AtomicLong rows = new AtomicLong();
        AtomicInteger traces = new AtomicInteger();
        long start = System.nanoTime();
        long[] lastShown = {start};
        List<ParquetExport.TraceExport> done = ParquetExport.export(files, output, new ParquetExport.Listener() {
            @Override
            public void rows(long n) {
                long total = rows.addAndGet(n);
                long now = System.nanoTime();
                synchronized (lastShown) {
                    if (now - lastShown[0] > 1_000_000_000L) {
                        lastShown[0] = now;
                        progress.show(String.format(Locale.ROOT, "exporting: %d of %d traces done, %,d rows (%,.0f rows/s)",
                                traces.get(), files.size(), total, total * 1e9 / (now - start)));
                    }
                }
            }

            @Override
            public void exported(ParquetExport.TraceExport t) {
                traces.incrementAndGet();
            }
        });
        progress.clear();
        long nanos = System.nanoTime() - start;
        long total = 0;
        int fileCount = 0;
        for (ParquetExport.TraceExport t : done) {
            total += t.rows();
            fileCount += t.files().size();
            out.printf(Locale.ROOT, "%s: %,d rows -> %s%s%n", t.trace(), t.rows(),
                    t.files().size() == 1 ? output.relativize(t.files().getFirst()) : t.files().size() + " files",
                    t.recoveryNote() == null ? "" : " (RECOVERED: " + t.recoveryNote() + ")");
        }
        out.printf(Locale.ROOT, "exported %,d rows of %d files into %d Parquet files under %s in %.1f s (%,.0f rows/s); "
                        + "partitioned by %s%n", total, done.size(), fileCount, output, nanos / 1e9, total * 1e9 / Math.max(1, nanos),
                String.join(", ", ExportSchema.PARTITIONS));
        return 0;
    }
}
