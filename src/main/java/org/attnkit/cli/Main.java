package org.attnkit.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.util.Properties;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * The {@code attnkit} command line: {@code bench} times the operators against this machine's
 * ceilings, {@code check} runs golden cases, {@code devices} describes the CPU and CUDA, {@code train}
 * trains small models on generated tasks. Exit codes: 0 success, 1 a check failed (or an error), 2 a usage error or a backend that
 * was asked for and is unavailable. Errors are one line; {@code ATTNKIT_DEBUG=1} adds the stack trace.
 */
@Command(name = "attnkit", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Fused attention, LightConv, DynamicConv and head-mixture operators: checks and tools.",
        subcommands = {BenchCommand.class, CheckCommand.class, DevicesCommand.class, TrainCommand.class},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:success", "1:a check failed or an error occurred",
                        "2:usage error, or a requested backend is unavailable"})
public final class Main implements Runnable {
    public static final int EXIT_OK = 0;
    public static final int EXIT_FAILED = 1;
    public static final int EXIT_USAGE = 2;

    @Spec
    CommandSpec spec;

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** The configured command line (also what tests execute in-process). */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main());
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        cl.setParameterExceptionHandler(Main::usageError);
        cl.setExecutionExceptionHandler((ex, cmd, parseResult) -> {
            PrintWriter err = cmd.getErr();
            err.println(cmd.getCommandSpec().qualifiedName() + ": error: " + describe(ex));
            if (debug()) {
                ex.printStackTrace(err);
            }
            err.flush();
            return ex instanceof CliException c ? c.exitCode() : EXIT_FAILED;
        });
        return cl;
    }

    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "missing command: bench, check, devices or train");
    }

    private static int usageError(ParameterException ex, String[] args) {
        CommandLine cmd = ex.getCommandLine();
        PrintWriter err = cmd.getErr();
        String name = cmd.getCommandSpec().qualifiedName();
        err.println(name + ": " + ex.getMessage() + " (see '" + name + " --help')");
        err.flush();
        return EXIT_USAGE;
    }

    /** One line for any exception: its message, with the type when the type says something. */
    static String describe(Throwable ex) {
        String msg = ex.getMessage();
        if (ex instanceof IllegalArgumentException || ex instanceof UnsupportedOperationException
                || ex instanceof IOException || ex instanceof CliException) {
            if (msg != null && !msg.isBlank()) {
                return firstLine(msg);
            }
        }
        String type = ex.getClass().getSimpleName();
        return msg == null || msg.isBlank() ? type : type + ": " + firstLine(msg);
    }

    private static String firstLine(String s) {
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    static boolean debug() {
        String d = System.getenv("ATTNKIT_DEBUG");
        return d != null && !d.isEmpty() && !d.equals("0");
    }

    /** The project version from the jar's Maven descriptor, or "development build" outside a jar. */
    static String version() {
        String v = Main.class.getPackage().getImplementationVersion();
        if (v != null) {
            return v;
        }
        try (InputStream in = Main.class.getResourceAsStream("/META-INF/maven/org.attnkit/attnkit/pom.properties")) {
            if (in != null) {
                Properties p = new Properties();
                p.load(in);
                String pv = p.getProperty("version");
                if (pv != null) {
                    return pv;
                }
            }
        } catch (IOException e) {
            // fall through: the version is informative only
        }
        return "development build";
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"attnkit " + version(),
                    "Java " + System.getProperty("java.version") + " (" + System.getProperty("java.vendor") + ")"};
        }
    }
}
