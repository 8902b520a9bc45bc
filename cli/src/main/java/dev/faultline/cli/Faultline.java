package dev.faultline.cli;

import dev.faultline.core.FaultlineVersion;
import dev.faultline.core.abi.KernelException;
import dev.faultline.core.trace.TraceFormatException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.NoSuchFileException;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The {@code faultline} command: parses the command line and runs one subcommand.
 *
 * <p>Exit status: 0 on success, 1 when the work failed (a one-line {@code faultline CMD: ...}
 * on stderr says what was attempted and why), 2 for a usage error. Set {@code FAULTLINE_DEBUG=1}
 * to get the stack trace as well.
 */
@Command(name = "faultline", mixinStandardHelpOptions = true,
        exitCodeListHeading = ExitStatus.HEADING, exitCodeList = {ExitStatus.OK, ExitStatus.FAILED, ExitStatus.USAGE}, versionProvider = Faultline.Version.class,
        sortOptions = false, usageHelpAutoWidth = true,
        description = {
            "Capture, replay and chart Linux userfaultfd fault traces.",
            "",
            "The data flows: record (a built-in workload, or another process's handler with --pid or -- COMMAND) "
                + "writes a trace; replay re-drives it and writes results; analyze charts either, compare says "
                + "whether one regressed against another; export writes them as Parquet for fleet-scale engines. probe shows what "
                + "this kernel can do.",
            "",
            "New here? 'faultline demo' records, replays and charts on built-in defaults.",
            "Run 'faultline COMMAND --help' for a command's options and examples.",
            "Completion of commands and options in bash or zsh: source <(faultline generate-completion)"})
public final class Faultline implements Runnable {
    /**
     * The commands by name, in the order help lists them. Added to the command line by hand, not
     * by the annotation's {@code subcommands}, so that a run of one command builds only its own
     * model: picocli reflects over every option of every command it is given, and in a guest under
     * TCG building all twelve took 8 s of the 15 s before a replay's first fault.
     */
    static final Map<String, Class<?>> COMMANDS = commands();

    /** picocli's commands, which work on every command (help's list, completion, man pages). */
    static final Set<String> ABOUT_ALL = Set.of("help", "generate-completion", "gen-manpage");

    // classes, not constructor references: a JDK 25 start-up cache trained on a static map of lambdas
    // crashed while it was written (archiveHeapWriter: "Metadata ... should have been archived")
    private static Map<String, Class<?>> commands() {
        Map<String, Class<?>> m = new LinkedHashMap<>();
        m.put("probe", ProbeCommand.class);
        m.put("record", RecordCommand.class);
        m.put("replay", ReplayCommand.class);
        m.put("analyze", AnalyzeCommand.class);
        m.put("compare", CompareCommand.class);
        m.put("export", ExportCommand.class);
        m.put("bench", BenchCommand.class);
        m.put("demo", DemoCommand.class);
        m.put("inspect", InspectCommand.class);
        m.put("help", CommandLine.HelpCommand.class);
        m.put("generate-completion", picocli.AutoComplete.GenerateCompletion.class);
        m.put("gen-manpage", picocli.codegen.docgen.manpage.ManPageGenerator.class);
        return Collections.unmodifiableMap(m);
    }

    /** Exit status when the work failed. */
    public static final int EXIT_FAILED = 1;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "name a command");
    }

    /** The command line with every command and its error handling. */
    public static CommandLine commandLine() {
        return commandLine(COMMANDS.keySet());
    }

    /**
     * The command line main runs {@code args} with: only the command they name when their first
     * word is one of Faultline's own, else every command (the top-level help, picocli's
     * {@link #ABOUT_ALL}, a mistyped command's suggestions).
     */
    public static CommandLine commandLine(String[] args) {
        String first = args.length > 0 ? args[0] : "";
        return COMMANDS.containsKey(first) && !ABOUT_ALL.contains(first) ? commandLine(List.of(first)) : commandLine();
    }

    private static CommandLine commandLine(Collection<String> names) {
        CommandLine cl = new CommandLine(new Faultline());
        for (String name : names) {
            cl.addSubcommand(COMMANDS.get(name)); // made by picocli's factory, under its annotation's name (HelpTest checks the key)
        }
        cl.setExecutionExceptionHandler(Faultline::failed);
        cl.setParameterExceptionHandler(Faultline::misused);
        return cl;
    }

    public static void main(String[] args) {
        int exit = commandLine(args).execute(args);
        StopOnSignal.reported(); // a Ctrl-C'd command has said why it stopped: the JVM may go
        System.exit(exit);
    }

    private static int failed(Exception e, CommandLine cl, CommandLine.ParseResult parsed) {
        PrintWriter err = cl.getErr();
        err.println(cl.getCommandSpec().qualifiedName() + ": " + oneLine(e));
        if (System.getenv("FAULTLINE_DEBUG") != null) {
            e.printStackTrace(err);
        }
        err.flush();
        return EXIT_FAILED;
    }

    /**
     * A usage error: its line, picocli's suggestion for a mistyped option or command, and where the
     * help is, rather than the whole help (which buries the line that matters).
     */
    private static int misused(CommandLine.ParameterException e, String[] args) {
        CommandLine cl = e.getCommandLine();
        PrintWriter err = cl.getErr();
        String name = cl.getCommandSpec().qualifiedName();
        err.println(name + ": " + e.getMessage());
        CommandLine.UnmatchedArgumentException.printSuggestions(e, err);
        err.println("see '" + name + " --help'");
        err.flush();
        return cl.getCommandSpec().exitCodeOnInvalidInput();
    }

    /** The one line a user sees for a failure: what was attempted and why, without a stack trace. */
    static String oneLine(Throwable e) {
        if (e instanceof UncheckedIOException u) {
            e = u.getCause();
        }
        String m = switch (e) {
            case NoSuchFileException f -> "no such file: " + f.getFile();
            case AccessDeniedException f -> "permission denied: " + f.getFile();
            case FileAlreadyExistsException f -> "already exists: " + f.getFile();
            case KernelException k -> k.getMessage();
            case TraceFormatException t -> t.getMessage();
            case dev.faultline.collector.workload.WorkloadException w -> w.getMessage();
            case dev.faultline.replay.ReplayException r -> r.getMessage();
            case dev.faultline.collector.passive.CaptureException c -> c.getMessage();
            case dev.faultline.guest.GuestException g -> g.getMessage();
            case IOException io when io.getMessage() != null -> io.getMessage();
            default -> e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
        };
        return m.lines().findFirst().orElse(m);
    }

    /** {@code --version}: the build's version, the JVM and the kernel. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"faultline " + FaultlineVersion.get(),
                "java " + Runtime.version() + " (" + System.getProperty("java.vm.vendor") + ")",
                "linux " + System.getProperty("os.version")};
        }
    }
}
