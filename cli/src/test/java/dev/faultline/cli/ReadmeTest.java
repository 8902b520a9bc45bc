package dev.faultline.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The README's {@code ./faultline} commands, run as written, in the order written: each exits as the
 * README says it does. Commands that need what a test machine lacks (a QEMU destination to attach
 * to, a user's own trace named as a placeholder, a kernel image) or that other tests run at length
 * (the demo, the Spark job) are listed as skipped, with the reason.
 */
class ReadmeTest {
    private static final Path ROOT = Path.of(System.getProperty("faultline.root", "..")).toAbsolutePath().normalize();

    /** Why a README line is not run here, or null to run it. */
    private static String skipped(String line) {
        if (line.contains("--pid") || line.contains("postcopy.arrow") || line.contains("my-handler")
                || line.contains("start-handler")) {
            return "needs a live handler to capture (QemuPostcopyTest and PassiveRecordTest capture real ones)";
        }
        if (line.contains("--kernel") || line.contains(".6.1.0-")) {
            return "boots kernels in guests, or reads the files that writes (KernelCommandTest does both)";
        }
        if (line.contains(" demo") || line.contains("run-tests")) {
            return "the demo and the test run themselves (DemoCommandTest runs the demo)";
        }
        if (line.contains("fleet-out") || line.contains("a.arrow slow.arrow")) {
            return "the fleet job's output (FleetJobTest runs it) or a printed example";
        }
        return null;
    }

    @Test
    void theReadmesCommandsRunAsWritten(@TempDir Path dir) throws Exception {
        List<String> commands = new ArrayList<>();
        boolean shell = false;
        for (String line : Files.readAllLines(ROOT.resolve("README.md"))) {
            if (line.startsWith("```")) {
                shell = line.equals("```sh");
                continue;
            }
            if (shell && line.startsWith("./faultline ")) {
                commands.add(line.replaceFirst("\\s+#.*$", "").strip());
            }
        }
        assertTrue(commands.size() >= 8, "the README's commands: " + commands);
        int ran = 0;
        for (String command : commands) {
            String why = skipped(command);
            if (why != null) {
                System.out.println("README: skipped '" + command + "': " + why);
                continue;
            }
            String[] pipe = command.split(" \\| ", 2);
            List<String> args = new ArrayList<>();
            boolean output = false;
            for (String token : pipe[0].substring("./faultline ".length()).split("\\s+")) {
                if (token.startsWith("traces/") && token.contains("*")) {
                    try (Stream<Path> s = Files.list(ROOT.resolve("traces"))) {
                        s.map(Path::toString).filter(p -> p.endsWith(".arrow")).sorted().forEach(args::add);
                    }
                } else if (token.startsWith("traces/")) {
                    args.add(ROOT.resolve(token).toString());
                } else if (output || token.endsWith(".arrow")) {
                    args.add(token.equals("-") ? token : dir.resolve(token).toString()); // what the README writes, here
                } else {
                    args.add(token);
                }
                output = token.equals("-o");
            }
            CliRun run = CliRun.of(args.toArray(String[]::new));
            boolean compare = args.getFirst().equals("compare");
            assertTrue(run.exit() == 0 || compare && run.exit() == 3, "README: '" + command + "' exited " + run.exit() + ": "
                    + run.err());
            if (pipe.length > 1) {
                assertTrue(!run.out().isEmpty(), "README: '" + command + "' printed what the pipe reads");
            }
            System.out.println("README: ran '" + command + "': exit " + run.exit());
            ran++;
        }
        assertTrue(ran >= 6, ran + " of the README's commands ran");
        assertTrue(Files.isRegularFile(dir.resolve("report/index.html")) && Files.isRegularFile(dir.resolve("cmp/index.html")),
                "the report and the comparison the README points to");
    }
}
