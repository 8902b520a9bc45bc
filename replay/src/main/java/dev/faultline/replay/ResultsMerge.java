package dev.faultline.replay;

import dev.faultline.collector.record.TraceRecorder;
import dev.faultline.core.trace.Compression;
import dev.faultline.core.trace.OutputFile;
import dev.faultline.core.trace.TraceEvent;
import dev.faultline.core.trace.TraceHeader;
import dev.faultline.core.trace.TraceReader;
import dev.faultline.core.trace.TraceWriter;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;

/**
 * Joins results files of one measured run each (replays run one at a time so that they could be
 * interleaved with other kernels' or variants' runs) into one results file whose run column counts
 * them 0..n-1 in the order given, as if one replay had made them all.
 *
 * <p>The joined file keeps the first file's header (kernel release, host, regions, options) with
 * {@code runs} set to the number of files and the {@code extra} keys added, and sums the lost-event
 * counts of the footers. It is written as {@code OUT.partial} and renamed, so a failure leaves no
 * half-written {@code OUT}.
 */
public final class ResultsMerge {
    private ResultsMerge() {
    }

    /** Writes {@code out} from {@code runs}, each a results file holding run 0 only. */
    public static void merge(List<Path> runs, Path out, Map<String, String> extra, Compression compression) throws IOException {
        if (runs.isEmpty()) {
            throw new IllegalArgumentException("no run files to merge into " + out);
        }
        Path partial = OutputFile.partial(out);
        TraceEvent e = new TraceEvent();
        long lost = 0;
        boolean done = false;
        TraceWriter writer = null;
        try {
            for (int i = 0; i < runs.size(); i++) {
                try (TraceReader r = TraceReader.open(runs.get(i))) {
                    if (writer == null) {
                        TraceHeader h = r.header().with("runs", Integer.toString(runs.size()));
                        for (Map.Entry<String, String> x : extra.entrySet()) {
                            h = h.with(x.getKey(), x.getValue());
                        }
                        writer = TraceWriter.create(partial, h, compression, true);
                    }
                    lost += Long.parseLong(r.footer().getOrDefault(TraceRecorder.FOOTER_LOST, "0"));
                    while (r.nextBatch()) {
                        for (int row = 0; row < r.batchRows(); row++) {
                            r.read(row, e);
                            if (e.run < 0) {
                                continue;
                            }
                            e.run = i;
                            writer.append(e);
                        }
                    }
                }
            }
            writer.putFooter(TraceRecorder.FOOTER_LOST, Long.toString(lost));
            writer.putFooter("runs", Integer.toString(runs.size()));
            writer.close();
            Files.move(partial, out, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            done = true;
        } finally {
            if (writer != null) {
                try {
                    writer.close();
                } catch (IOException | RuntimeException ignored) {
                    // the partial file is removed below; the failure that got us here is reported
                }
            }
            if (!done) {
                Files.deleteIfExists(partial);
            }
        }
    }
}
