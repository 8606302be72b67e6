package org.attnkit.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.attnkit.backend.Backend;
import org.attnkit.backend.BackendUnavailableException;
import org.attnkit.io.SafeTensors;
import org.attnkit.io.SafeTensorsFile;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code attnkit check FILE|DIR... [--backend ref|simd|cuda|all]}: runs golden cases and prints one
 * line per case and backend, then {@code "N passed, M failed"}. A case that cannot run (missing file,
 * malformed file, unknown op, an op that throws) is one failed line, never a stack trace.
 */
@Command(name = "check", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = {"Run golden cases (safetensors files made by an independent implementation) and compare "
                + "every output and gradient with |a - r| <= atol + rtol*|r|.",
                "A directory means every *.safetensors file in it, in name order."})
final class CheckCommand implements Callable<Integer> {
    /** The --backend choices. */
    enum BackendChoice { ref, simd, cuda, all }

    @Parameters(arity = "1..*", paramLabel = "FILE|DIR", description = "Golden case files or directories of them.")
    List<Path> paths;

    @Option(names = "--backend", paramLabel = "BACKEND", defaultValue = "all",
            description = "ref, simd, cuda or all (default: ${DEFAULT-VALUE}: every backend available for CPU "
                    + "tensors; an op without a SIMD implementation is skipped there).")
    BackendChoice backend;

    @Spec
    CommandSpec spec;

    /** One case to run: a readable path, or the one-line reason it cannot be. */
    private record Entry(String name, Path file, String error) {
    }

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        CudaStatus.Probe cuda = CudaStatus.probe();
        List<Backend> backends = switch (backend) {
            case ref -> List.of(Backend.REF);
            case simd -> List.of(Backend.SIMD);
            case cuda -> {
                if (!cuda.available()) {
                    throw new CliException(Main.EXIT_USAGE, "--backend cuda: CUDA is unavailable (" + cuda.reason() + ")");
                }
                yield List.of(Backend.CUDA);
            }
            case all -> cuda.available() ? List.of(Backend.REF, Backend.SIMD, Backend.CUDA)
                    : List.of(Backend.REF, Backend.SIMD);
        };

        List<Entry> entries = expand(paths);
        int width = 0;
        for (Entry e : entries) {
            width = Math.max(width, e.name().length());
        }
        String nameFormat = "%-" + Math.max(width, 1) + "s";

        if (backend == BackendChoice.all && !cuda.available()) {
            out.println("SKIP  cuda  skipped: " + cuda.reason());
        }
        int passed = 0;
        int failed = 0;
        int skipped = 0;
        for (Entry e : entries) {
            String name = String.format(Locale.ROOT, nameFormat, e.name());
            if (e.error() != null) {
                out.println("FAIL  " + name + "  error: " + e.error());
                failed++;
                continue;
            }
            SafeTensorsFile file;
            try {
                file = SafeTensors.read(e.file());
                Golden.validate(file);
            } catch (IOException | RuntimeException ex) {
                out.println("FAIL  " + name + "  error: " + Main.describe(ex));
                failed++;
                continue;
            }
            for (Backend b : backends) {
                String prefix = name + "  " + String.format(Locale.ROOT, "%-4s", b.id()) + "  ";
                try {
                    Golden.Result r = Golden.run(file, b);
                    out.println((r.passed() ? "PASS  " : "FAIL  ") + prefix + r.summary());
                    if (r.passed()) {
                        passed++;
                    } else {
                        failed++;
                    }
                } catch (UnsupportedOperationException ex) {
                    if (b != Backend.REF && missingBackend(ex, b)) {
                        out.println("SKIP  " + prefix + "skipped (" + ex.getMessage() + ")");
                        skipped++;
                    } else {
                        out.println("FAIL  " + prefix + "error: " + Main.describe(ex));
                        failed++;
                    }
                } catch (RuntimeException ex) {
                    out.println("FAIL  " + prefix + "error: " + Main.describe(ex));
                    failed++;
                }
            }
            out.flush();
        }
        out.println(passed + " passed, " + failed + " failed" + (skipped > 0 ? ", " + skipped + " skipped" : ""));
        out.flush();
        if (failed == 0 && passed == 0) {
            PrintWriter err = spec.commandLine().getErr();
            err.println(spec.qualifiedName() + ": error: nothing was checked: every case was skipped");
            err.flush();
            return Main.EXIT_FAILED;
        }
        return failed > 0 ? Main.EXIT_FAILED : Main.EXIT_OK;
    }

    /**
     * Whether {@code ex} is the dispatcher saying that an operator lacks {@code backend} (see
     * {@code Kernels.choose}), as opposed to an operator failing.
     */
    static boolean missingBackend(UnsupportedOperationException ex, Backend backend) {
        return ex instanceof BackendUnavailableException b && b.backend() == backend;
    }

    /** Files in argument order; a directory contributes its *.safetensors files sorted by name. */
    private static List<Entry> expand(List<Path> paths) {
        List<Entry> entries = new ArrayList<>();
        for (Path p : paths) {
            if (Files.isDirectory(p)) {
                List<Path> files = new ArrayList<>();
                try (DirectoryStream<Path> ds = Files.newDirectoryStream(p, "*.safetensors")) {
                    for (Path f : ds) {
                        files.add(f);
                    }
                } catch (IOException e) {
                    entries.add(new Entry(p.toString(), null, "cannot list directory: " + e.getMessage()));
                    continue;
                }
                if (files.isEmpty()) {
                    entries.add(new Entry(p.toString(), null, "no *.safetensors files in this directory"));
                }
                files.sort((a, b) -> a.getFileName().toString().compareTo(b.getFileName().toString()));
                for (Path f : files) {
                    entries.add(new Entry(Golden.caseName(f), f, null));
                }
            } else if (Files.exists(p)) {
                entries.add(new Entry(Golden.caseName(p), p, null));
            } else {
                entries.add(new Entry(p.toString(), null, "no such file or directory"));
            }
        }
        return entries;
    }
}
