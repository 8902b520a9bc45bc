package dev.faultline.cli;

import dev.faultline.export.ExportSchema;
import dev.faultline.export.ExportListener;
import dev.faultline.export.ExportedTrace;
import dev.faultline.export.ParquetExport;
import dev.faultline.export.TextExport;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/** {@code faultline export}: traces and replay results as partitioned Parquet (Spark, DuckDB, Trino), CSV or JSON Lines. */
@Command(name = "export", sortOptions = false, usageHelpAutoWidth = true, mixinStandardHelpOptions = true,
        exitCodeListHeading = ExitStatus.HEADING, exitCodeList = {ExitStatus.OK, ExitStatus.FAILED, ExitStatus.USAGE},
        description = {
            "Export every row of traces and replay results. Parquet (ZSTD, the default) is for the engines fleets already "
                + "run (Spark, DuckDB, Trino, BigQuery): one file per trace and backend under DIR/kernel=RELEASE/backend=NAME/ "
                + "(Hive-style: engines read kernel and backend from the directory names). CSV (with a header line) and JSON "
                + "Lines are for pandas, spreadsheets and jq: DIR/NAME.csv per trace, kernel and backend as columns, or "
                + "all traces to stdout with -o -.",
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
            "  faultline export t.arrow --format jsonl -o - | jq .latency_ns",
            "  faultline export t.arrow --format csv -o csv/  (pandas.read_csv('csv/t.csv'))",
            "  duckdb -c \"SELECT kernel, backend, ioctl, quantile_cont(latency_ns, 0.99)",
            "     FROM read_parquet('/data/faultline/**/*.parquet', hive_partitioning=true)",
            "     WHERE kind = 'PAGEFAULT' GROUP BY ALL\""})
final class ExportCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(paramLabel = "FILE", arity = "1..*", description = "Traces or replay results (not summary captures: they hold no row per fault); - reads one from standard input.")
    List<Path> files;

    @Option(names = {"-o", "--output"}, paramLabel = "DIR", required = true,
            description = "The directory: created if missing; files already there stay, this export's are added or replaced. "
                    + "With csv or jsonl, - writes every row to stdout.")
    Path output;

    @Option(names = "--format", paramLabel = "FORMAT", description = "parquet, csv or jsonl (default: ${DEFAULT-VALUE}).")
    String format = "parquet";

    @Override
    public Integer call() throws Exception {
        try (StdinFile stdin = new StdinFile()) {
            files = stdin.resolve(files, System.in);
            return export();
        }
    }

    private Integer export() throws Exception {
        String f = format.strip().toLowerCase(Locale.ROOT);
        if (!List.of("parquet", "csv", "jsonl").contains(f)) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--format: '" + format + "' is none of parquet, csv, jsonl");
        }
        boolean toStdout = output.toString().equals("-");
        if (toStdout && f.equals("parquet")) {
            throw new CommandLine.ParameterException(spec.commandLine(), "-o -: Parquet goes to a directory (one file per trace "
                    + "and backend); use --format csv or jsonl for stdout");
        }
        if (toStdout) {
            TextExport.write(files, spec.commandLine().getOut(), TextExport.Format.valueOf(f.toUpperCase(Locale.ROOT)),
                    ExportListener.QUIET);
            return 0;
        }
        PrintWriter out = spec.commandLine().getOut();
        ProgressLine progress = new ProgressLine(spec.commandLine().getErr());
        AtomicLong rows = new AtomicLong();
        AtomicInteger traces = new AtomicInteger();
        long start = System.nanoTime();
        long[] lastShown = {start};
        ExportListener listener = new ExportListener() {
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
            public void exported(ExportedTrace t) {
                traces.incrementAndGet();
            }
        };
        boolean existed = Files.exists(output);
        List<ExportedTrace> done;
        try {
            done = f.equals("parquet") ? ParquetExport.export(files, output, listener)
                    : TextExport.export(files, output, TextExport.Format.valueOf(f.toUpperCase(Locale.ROOT)), listener);
        } catch (java.io.IOException | RuntimeException e) {
            if (!existed) {
                removeEmptyDirectories(output); // a failed export into a new directory leaves no empty tree behind
            }
            throw e;
        }
        progress.clear();
        long nanos = System.nanoTime() - start;
        long total = 0;
        int fileCount = 0;
        for (ExportedTrace t : done) {
            total += t.rows();
            fileCount += t.files().size();
            out.printf(Locale.ROOT, "%s: %,d rows -> %s%s%n", t.trace(), t.rows(),
                    t.files().size() == 1 ? output.relativize(t.files().getFirst()) : t.files().size() + " files",
                    t.recoveryNote() == null ? "" : " (RECOVERED: " + t.recoveryNote() + ")");
        }
        out.printf(Locale.ROOT, "exported %,d rows of %d files into %d %s files under %s in %.1f s (%,.0f rows/s)%s%n", total,
                done.size(), fileCount, f.equals("parquet") ? "Parquet" : f.toUpperCase(Locale.ROOT), output, nanos / 1e9,
                total * 1e9 / Math.max(1, nanos), f.equals("parquet") ? "; partitioned by " + String.join(", ", ExportSchema.PARTITIONS) : "");
        return 0;
    }

    /** Removes {@code dir} and the directories under it if none holds a file (the partitions of a failed export). */
    private static void removeEmptyDirectories(Path dir) {
        try (var all = Files.walk(dir)) {
            List<Path> paths = all.sorted(java.util.Comparator.reverseOrder()).toList();
            if (paths.stream().allMatch(Files::isDirectory)) {
                for (Path p : paths) {
                    Files.deleteIfExists(p);
                }
            }
        } catch (java.io.IOException e) {
            // left as it is: the export's own error is the one to report
        }
    }
}
