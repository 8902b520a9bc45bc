package dev.faultline.replay;

import dev.faultline.collector.handler.WaitStrategy;
import dev.faultline.collector.record.RecordRing;
import dev.faultline.core.region.Backend;
import dev.faultline.core.region.CpuIdle;
import dev.faultline.core.trace.Compression;
import dev.faultline.core.uffd.ResolveIoctl;

/**
 * Everything a replay can change about how a trace is re-driven. Null / 0 mean "as recorded".
 *
 * @param backend        every region rebuilt on this backend instead of its recorded one (null: as recorded)
 * @param threads        faulting threads; 0 for one per recorded thread id
 * @param pace           how fast touches follow each other
 * @param resolve        every fault and push resolved with this ioctl instead of the recorded one (null: as recorded)
 * @param handlerThreads threads reading and resolving faults
 * @param waitStrategy   how an idle handler thread waits
 * @param delay          service time added to each fault before its ioctl (a slower backing store, or the captured handler's own)
 * @param prefetch       install the whole working set before the touches start
 * @param runs           measured runs
 * @param warmup         runs before those, not measured
 * @param verify         check after each run that every resolved page holds what was served
 * @param compression    of the results file
 * @param ringCapacity   rows per handler thread's buffer
 * @param allowEmpty     accept measured runs that held no fault (else the replay fails: it measured nothing)
 * @param cpuIdle        what idle CPUs do while the replay runs
 */
public record ReplayOptions(Backend backend, int threads, Pace pace, ResolveIoctl resolve, int handlerThreads,
                            WaitStrategy waitStrategy, Delay delay, boolean prefetch, int runs, int warmup,
                            boolean verify, Compression compression, int ringCapacity, boolean allowEmpty,
                            CpuIdle cpuIdle) {

    /**
     * Replay as recorded, at full speed, one spinning handler thread, one measured run after one
     * warm-up run (a JVM's first pass over the fault path runs interpreted and compiles it: on a
     * short trace that alone halved the faults/s), idle CPUs polling.
     */
    public static ReplayOptions defaults() {
        return new ReplayOptions(null, 0, Pace.FULL, null, 1, WaitStrategy.SPIN, Delay.NONE, false, 1, 1, false,
                Compression.ZSTD, RecordRing.DEFAULT_CAPACITY, false, CpuIdle.POLL);
    }

    /** @throws ReplayException if a value is out of range, naming the option */
    public void validate() {
        if (threads < 0 || threads > 1024) {
            throw new ReplayException("--threads must be between 1 and 1024 (or left out for one per recorded thread), not " + threads);
        }
        if (handlerThreads < 1 || handlerThreads > 64) {
            throw new ReplayException("--handler-threads must be between 1 and 64, not " + handlerThreads);
        }
        if (delay.nanos() < 0 || delay.nanos() > 10_000_000_000L) {
            throw new ReplayException("--delay must be between 0 and 10s, not " + delay.nanos() + " ns");
        }
        if (ringCapacity < 1) {
            throw new ReplayException("--ring must be at least 1 row, not " + ringCapacity);
        }
        if (runs < 1 || runs > 1000) {
            throw new ReplayException("--runs must be between 1 and 1000, not " + runs);
        }
        if (warmup < 0 || warmup > 1000) {
            throw new ReplayException("--warmup must be between 0 and 1000, not " + warmup);
        }
        if (cpuIdle == null) {
            throw new ReplayException("--cpu-idle must be poll or system");
        }
        if (backend == Backend.GUEST_MEMFD) {
            throw new ReplayException("guest_memfd cannot be registered with userfaultfd on this kernel (faultline probe shows it)");
        }
        if (resolve == ResolveIoctl.WAKE || resolve == ResolveIoctl.NONE) {
            throw new ReplayException("--resolve " + resolve.name().toLowerCase() + " does not resolve a fault");
        }
    }

    /** A builder starting from {@link #defaults()}, for callers that change a few options. */
    public static Builder builder() {
        return new Builder(defaults());
    }

    /** A builder starting from these options. */
    public Builder toBuilder() {
        return new Builder(this);
    }

    /** Changes some options of a {@link ReplayOptions}; {@link #build} makes the record. */
    public static final class Builder {
        private Backend backend;
        private int threads;
        private Pace pace;
        private ResolveIoctl resolve;
        private int handlerThreads;
        private WaitStrategy waitStrategy;
        private Delay delay;
        private boolean prefetch;
        private int runs;
        private int warmup;
        private boolean verify;
        private Compression compression;
        private int ringCapacity;
        private boolean allowEmpty;
        private CpuIdle cpuIdle;

        private Builder(ReplayOptions o) {
            backend = o.backend;
            threads = o.threads;
            pace = o.pace;
            resolve = o.resolve;
            handlerThreads = o.handlerThreads;
            waitStrategy = o.waitStrategy;
            delay = o.delay;
            prefetch = o.prefetch;
            runs = o.runs;
            warmup = o.warmup;
            verify = o.verify;
            compression = o.compression;
            ringCapacity = o.ringCapacity;
            allowEmpty = o.allowEmpty;
            cpuIdle = o.cpuIdle;
        }

        public Builder backend(Backend b) {
            backend = b;
            return this;
        }

        public Builder threads(int n) {
            threads = n;
            return this;
        }

        public Builder pace(Pace p) {
            pace = p;
            return this;
        }

        public Builder resolve(ResolveIoctl op) {
            resolve = op;
            return this;
        }

        public Builder handlerThreads(int n) {
            handlerThreads = n;
            return this;
        }

        public Builder waitStrategy(WaitStrategy w) {
            waitStrategy = w;
            return this;
        }

        public Builder delayNanos(long ns) {
            delay = Delay.fixed(ns);
            return this;
        }

        public Builder delay(Delay d) {
            delay = d;
            return this;
        }

        public Builder allowEmpty(boolean allow) {
            allowEmpty = allow;
            return this;
        }

        public Builder cpuIdle(CpuIdle c) {
            cpuIdle = c;
            return this;
        }

        public Builder prefetch(boolean p) {
            prefetch = p;
            return this;
        }

        public Builder runs(int measured, int warmupRuns) {
            runs = measured;
            warmup = warmupRuns;
            return this;
        }

        public Builder verify(boolean v) {
            verify = v;
            return this;
        }

        public Builder ringCapacity(int rows) {
            ringCapacity = rows;
            return this;
        }

        public ReplayOptions build() {
            return new ReplayOptions(backend, threads, pace, resolve, handlerThreads, waitStrategy, delay, prefetch,
                    runs, warmup, verify, compression, ringCapacity, allowEmpty, cpuIdle);
        }
    }
}
