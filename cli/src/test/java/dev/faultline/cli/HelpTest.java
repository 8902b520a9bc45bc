package dev.faultline.cli;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every command's --help renders as written: a stray '%' in a description makes picocli print a warning instead. */
class HelpTest {
    @Test
    void everyHelpRendersWithoutAPicocliWarning() {
        List<List<String>> commands = new ArrayList<>();
        commands.add(List.of());
        for (String name : Faultline.commandLine().getSubcommands().keySet()) {
            commands.add(List.of(name));
        }
        PrintStream stderr = System.err;
        for (List<String> command : commands) {
            ByteArrayOutputStream warnings = new ByteArrayOutputStream();
            System.setErr(new PrintStream(warnings, true, StandardCharsets.UTF_8));
            CliRun run;
            try {
                List<String> args = new ArrayList<>(command);
                args.add("--help");
                run = CliRun.of(args.toArray(String[]::new));
            } finally {
                System.setErr(stderr);
            }
            String shown = "faultline " + String.join(" ", command) + " --help";
            assertEquals(0, run.exit(), shown);
            assertTrue(run.out().contains("Usage: faultline"), shown + " printed: " + run.out());
            String err = warnings.toString(StandardCharsets.UTF_8) + run.err();
            assertFalse(err.contains("picocli WARN"), shown + " warned: " + err);
        }
    }
}
