package org.attnkit.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code attnkit devices}: what the CPU backends can use, and CUDA's state. */
@Command(name = "devices", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Describe the CPU (processors, Vector API width, JVM, heap) and the CUDA devices.")
final class DevicesCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        Runtime rt = Runtime.getRuntime();
        String model = cpuModel();
        out.println("CPU: " + rt.availableProcessors() + " available processors, " + System.getProperty("os.arch")
                + ", " + System.getProperty("os.name") + " " + System.getProperty("os.version")
                + (model == null ? "" : ", " + model));
        out.println("  Vector API: " + vectorApi());
        out.println("  JVM: " + System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version",
                System.getProperty("java.version")) + " (" + System.getProperty("java.vendor") + ")"
                + String.format(Locale.ROOT, ", max heap %.1f GiB", rt.maxMemory() / (1024.0 * 1024 * 1024))
                + ", collectors " + java.lang.management.ManagementFactory.getGarbageCollectorMXBeans().stream()
                        .map(java.lang.management.GarbageCollectorMXBean::getName)
                        .collect(java.util.stream.Collectors.joining(" + ")));
        String jdkNote = jdkNote(Runtime.version().feature());
        if (jdkNote != null) {
            out.println("  note: " + jdkNote);
        }
        CudaStatus.Probe cuda = CudaStatus.probe();
        if (cuda.available()) {
            out.println("CUDA: " + cuda.devices().size() + " device(s)");
            for (String d : cuda.devices()) {
                out.println("  " + d);
            }
        } else {
            out.println("CUDA: unavailable (" + cuda.reason() + ")");
        }
        out.flush();
        return Main.EXIT_OK;
    }

    /** The preferred float vector shape, or why the Vector API cannot be used. */
    static String vectorApi() {
        try {
            return VectorProbe.describe();
        } catch (LinkageError e) {
            // Thrown when jdk.incubator.vector is not in the module graph (no --add-modules).
            return "unavailable (start the JVM with --add-modules=jdk.incubator.vector)";
        }
    }

    /** The "model name" of the first processor in /proc/cpuinfo, where there is one. */
    private static String cpuModel() {
        Path info = Path.of("/proc/cpuinfo");
        if (!Files.isReadable(info)) {
            return null;
        }
        try (Stream<String> lines = Files.lines(info)) {
            List<String> model = lines.filter(l -> l.startsWith("model name")).limit(1).toList();
            if (model.isEmpty()) {
                return null;
            }
            String l = model.get(0);
            int colon = l.indexOf(':');
            return colon < 0 ? null : l.substring(colon + 1).trim().replaceAll("\\s+", " ");
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** Kept apart so that a missing jdk.incubator.vector fails here, as a catchable LinkageError. */
    private static final class VectorProbe {
        static String describe() {
            jdk.incubator.vector.VectorSpecies<Float> s = jdk.incubator.vector.FloatVector.SPECIES_PREFERRED;
            return "FloatVector.SPECIES_PREFERRED " + s.length() + " floats (" + s.vectorBitSize() + " bits)";
        }
    }

    /**
     * A line for JVMs older than 25 (the newest measured), or null: JDK 17's C2 sometimes compiled the large
     * register-tiled SIMD kernels to code that boxes its vectors (LightConv's forward 5.7-8.0 ms instead of
     * 2.1-2.6 ms after GLU had run, in 6 of 10 runs; see the README's benchmarks), JDK 25 in none of 5.
     */
    static String jdkNote(int feature) {
        return feature >= 25 ? null : "JDK " + feature + "'s C2 may compile the tiled SIMD kernels to code up to 3x"
                + " slower, as JDK 17's did in 6 of 10 runs and JDK 25's in none of 5: prefer JDK 25 or newer";
    }

}
