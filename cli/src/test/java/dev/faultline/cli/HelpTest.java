package dev.faultline.cli;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every command's --help renders as written (a stray '%' in a description makes picocli print a
 * warning instead), lists its exit statuses, and has no example wider than 80 columns.
 */
class HelpTest {
    /**
     * A run of one command builds only that command (a guest's JVM spent 8 s building all of
     * them), under the name it is asked by; help, completion, man pages, no command and a mistyped
     * one get every command.
     */
    @Test
    void aCommandRunIsBuiltAloneUnderItsName() {
        for (String name : Faultline.COMMANDS.keySet()) {
            Set<String> built = Faultline.commandLine(new String[] {name, "--help"}).getSubcommands().keySet();
            assertEquals(Faultline.ABOUT_ALL.contains(name) ? Faultline.COMMANDS.keySet() : Set.of(name), built, name);
        }
        assertEquals(Faultline.COMMANDS.keySet(), Faultline.commandLine(new String[0]).getSubcommands().keySet());
        assertEquals(Faultline.COMMANDS.keySet(), Faultline.commandLine(new String[] {"--version"}).getSubcommands().keySet());
        assertEquals(Faultline.COMMANDS.keySet(), Faultline.commandLine(new String[] {"replya"}).getSubcommands().keySet());
        CliRun typo = CliRun.of("replya", "x.arrow");
        assertEquals(2, typo.exit());
        assertTrue(typo.err().contains("replay"), "suggests the command meant: " + typo.err());
    }

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
            if (!List.of(List.of("help"), List.of("generate-completion"), List.of("gen-manpage")).contains(command)) { // picocli's own
                assertTrue(run.out().contains("Exit status:"), shown + " lists its exit statuses: " + run.out());
            }
        }
        // examples are copied into shells: none may be wrapped by the help's 80 columns
        var root = Faultline.commandLine();
        List<CommandLine> all = new ArrayList<>(root.getSubcommands().values());
        all.add(root);
        List<String> wrapped = new ArrayList<>();
        for (CommandLine c : all) {
            for (String line : c.getCommandSpec().usageMessage().description()) {
                if (line.startsWith("  ") && line.length() > 79) {
                    wrapped.add(c.getCommandName() + " (" + line.length() + " columns): " + line);
                }
            }
        }
        assertEquals(List.of(), wrapped, "examples wider than the help's 80 columns");
    }
}
