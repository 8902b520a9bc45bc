package dev.faultline.cli;

import dev.faultline.core.uffd.ResolveIoctl;
import picocli.CommandLine;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** Parsing of option words shared by commands, with errors that list the accepted words. */
final class Options {
    private Options() {
    }

    /** An enum constant by its lower-case name, or a usage error naming the option and the choices. */
    static <E extends Enum<E>> E parse(CommandLine cl, Class<E> type, String word, String option) {
        for (E e : type.getEnumConstants()) {
            if (e.name().equalsIgnoreCase(word)) {
                return e;
            }
        }
        throw new CommandLine.ParameterException(cl, option + ": unknown value '" + word
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
            default -> throw new CommandLine.ParameterException(cl,
                    "--resolve: unknown op '" + word + "' (expected copy, zeropage, continue, wp, move or poison)");
        };
    }
}
