package dev.faultline.cli;

import java.util.List;

/**
 * The main class of one measured run of {@code faultline replay --kernel} inside a guest (or on the
 * host for {@code --kernel host}): the same {@link ReplayCommand}, its options handed over as
 * {@code key=value} arguments ({@link ReplayCommand#guestArgs}) by the host, which has already
 * parsed and checked the command line.
 *
 * <p>It exists for the guest's start: picocli's model of a command is built from its annotations
 * (a proxy class generated per annotation type) by ~170 classes of class-file version 49, which the
 * JVM's start-up cache cannot hold; under TCG that was 3-4 s of every run's JVM before its first
 * fault (docs/kernels.md). Exit status as {@code faultline replay}'s: 0, 1 with one
 * {@code faultline replay: WHY} line, 2 for a usage error.
 */
final class GuestReplay {
    private GuestReplay() {
    }

    public static void main(String[] args) {
        GuestMain.run("replay", (out, err) -> ReplayCommand.fromGuestArgs(List.of(args))
                .run(null, out, err, "faultline replay " + String.join(" ", args)));
    }
}
