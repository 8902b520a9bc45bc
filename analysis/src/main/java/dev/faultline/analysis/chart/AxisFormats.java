package dev.faultline.analysis.chart;

import dev.faultline.analysis.Format;

import java.text.FieldPosition;
import java.text.NumberFormat;
import java.text.ParsePosition;
import java.util.Locale;
import java.util.function.DoubleFunction;

/** Axis labels in the units people read: nanoseconds as µs/ms, log2 buckets as times, percentiles as %. */
final class AxisFormats {
    private AxisFormats() {
    }

    /** Nanosecond values as {@code 12.3 µs}. */
    static NumberFormat nanos() {
        return of(Format::nanos);
    }

    /** A log2 bucket index k as the time 2^k ns. */
    static NumberFormat log2Nanos() {
        return of(k -> Format.nanos(Math.pow(2, k)));
    }

    /** x = log10(1/(1-q)) as the percentile q: 0 → 0%, 1 → 90%, 2 → 99%, 3 → 99.9%. */
    static NumberFormat percentile() {
        return of(v -> {
            double q = 100 * (1 - Math.pow(10, -v));
            return q >= 99.99 ? String.format(Locale.ROOT, "%.3f%%", q)
                    : q >= 99.9 ? String.format(Locale.ROOT, "%.2f%%", q)
                    : q >= 99 ? String.format(Locale.ROOT, "%.1f%%", q) : String.format(Locale.ROOT, "%.0f%%", q);
        });
    }

    /** Bytes as {@code 512 MiB}. */
    static NumberFormat bytes() {
        return of(b -> b >= 1L << 30 ? String.format(Locale.ROOT, "%.1f GiB", b / (1L << 30))
                : b >= 1L << 20 ? Format.mib(b / (1L << 20)) + " MiB"
                : b >= 1L << 10 ? String.format(Locale.ROOT, "%.0f KiB", b / (1L << 10))
                : String.format(Locale.ROOT, "%.0f B", b));
    }

    /** Seconds as {@code 1.5 s}. */
    static NumberFormat seconds() {
        return of(s -> Format.nanos(s * 1e9));
    }

    private static NumberFormat of(DoubleFunction<String> f) {
        return new NumberFormat() {
            @Override
            public StringBuffer format(double number, StringBuffer to, FieldPosition pos) {
                return to.append(f.apply(number));
            }

            @Override
            public StringBuffer format(long number, StringBuffer to, FieldPosition pos) {
                return to.append(f.apply(number));
            }

            @Override
            public Number parse(String source, ParsePosition pos) {
                throw new UnsupportedOperationException("axis labels are not parsed");
            }
        };
    }
}
