package dev.faultline.analysis;

import java.nio.file.Path;

/** Test helper run in a JVM of its own (a small heap): analyzes a file and prints faults and the p50 of group 0. */
public final class AnalyzeMain {
    public static void main(String[] args) throws Exception {
        long t0 = System.nanoTime();
        TraceAnalysis a = Analyzer.analyze(Path.of(args[0]), By.NONE);
        long ns = System.nanoTime() - t0;
        System.out.println(a.workingSet().faults() + " " + a.events() + " " + ns + " " + a.groups().getFirst().latency().getValueAtPercentile(50));
    }
}
