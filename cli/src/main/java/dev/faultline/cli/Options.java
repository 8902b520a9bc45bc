package dev.faultline.cli;

import dev.faultline.core.uffd.ResolveIoctl;
import picocli.CommandLine;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * Parsing of option words shared by commands, with errors that list the accepted words. Each takes
 * the command line a usage error blames, or null where a command runs without picocli (a replay in
 * a guest, {@link GuestReplay}): the error is then a {@link UsageError}.
 */
final class Options {
    private Options() {
    }

    /** A usage error saying {@code message}: picocli's for {@code cl}, or a {@link UsageError} when {@code cl} is null. */
    static RuntimeException usage(CommandLine cl, String message) {
        return cl == null ? new UsageError(message) : new CommandLine.ParameterException(cl, message);
    }

    /** An enum constant by its lower-case name, or a usage error naming the option and the choices. */
    static <E extends Enum<E>> E parse(CommandLine cl, Class<E> type, String word, String option) {
        for (E e : type.getEnumConstants()) {
            if (e.name().equalsIgnoreCase(word)) {
                return e;
            }
        }
        throw usage(cl, option + ": unknown value '" + word
                + "' (expected " + Arrays.stream(type.getEnumConstants()).map(e -> e.name().toLowerCase(Locale.ROOT))
                .collect(Collectors.joining(", ")) + ")");
    }

    /** A resolving op as users spell it: copy, zeropage, continue, wp (or writeprotect), move, poison. */
    static ResolveIoctl resolveOp(CommandLine cl, String word) {
        String w = word.toLowerCase(Locale.ROOT);
        return switch (w) {
            case "copy" -> ResolveIoctl.COPY;
            case "zeropage" -> ResolveIoctl.ZEROPAGE;
            case "continue" -> ResolveIoctl.CONTINUE;
            case "wp", "writeprotect" -> ResolveIoctl.WRITEPROTECT;
            case "move" -> ResolveIoctl.MOVE;
            case "poison" -> ResolveIoctl.POISON;
            default -> throw usage(cl,
                    "--resolve: unknown op '" + word + "' (expected copy, zeropage, continue, wp, move or poison)");
        };
    }

    /** A duration such as {@code 50us}, {@code 1.5ms}, {@code 2s}, {@code 30min}, {@code 800ns} or {@code 0}, in nanoseconds. */
    static long durationNanos(CommandLine cl, String word, String option) {
        String w = word.trim().toLowerCase(Locale.ROOT);
        // two-letter units first, so that "ms" is not read as "m" + "s"
        String[] suffixes = {"ns", "us", "µs", "ms", "min", "s"};
        long[] scales = {1, 1_000, 1_000, 1_000_000, 60_000_000_000L, 1_000_000_000};
        long scale = 0;
        String number = w;
        for (int i = 0; i < suffixes.length && scale == 0; i++) {
            if (w.endsWith(suffixes[i])) {
                scale = scales[i];
                number = w.substring(0, w.length() - suffixes[i].length());
            }
        }
        try {
            double v = Double.parseDouble(number);
            if ((scale == 0 && v != 0) || !(v >= 0) || Double.isInfinite(v)) {
                throw new NumberFormatException();
            }
            return Math.round(v * Math.max(scale, 1));
        } catch (NumberFormatException e) {
            throw usage(cl, option + ": '" + word
                    + "' is not a duration (expected a number with a unit: 800ns, 50us, 1.5ms, 2s, 30min)");
        }
    }
}
