package org.attnkit.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.attnkit.testing.DeterminismWorkload;
import org.junit.jupiter.api.Test;

/**
 * The SIMD backend gives the same bits whatever the number of worker threads: the same workload in
 * this JVM and in fresh JVMs with 1 and 3 threads (fresh, so the kernels also run cold there, before
 * the JIT has compiled them).
 */
class ThreadCountDeterminismTest {
    @Test
    void sameBitsWithOneThreeAndTheDefaultNumberOfThreads() throws Exception {
        String here = DeterminismWorkload.fingerprint();
        assertEquals(here, runWithThreads(1), "1 thread vs " + CpuPool.threads() + " in this JVM");
        assertEquals(here, runWithThreads(3), "3 threads vs " + CpuPool.threads() + " in this JVM");
    }

    private static String runWithThreads(int threads) throws IOException, InterruptedException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> command = new ArrayList<>(List.of(java, "--add-modules=jdk.incubator.vector"));
        // The child gets this JVM's vector width and register choice: with other ones its bits would differ
        // for that reason alone (e.g. under -XX:MaxVectorSize=32, 8-lane vectors on an AVX-512 machine).
        for (String arg : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (arg.startsWith("-XX:MaxVectorSize=") || arg.startsWith("-XX:UseAVX=")
                    || arg.startsWith("-Dattnkit.vectorRegisters=")) {
                command.add(arg);
            }
        }
        command.addAll(List.of("-Dattnkit.threads=" + threads, "-cp", System.getProperty("java.class.path"),
                DeterminismWorkload.class.getName()));
        ProcessBuilder pb = new ProcessBuilder(command);
        pb.redirectErrorStream(false);
        pb.redirectError(ProcessBuilder.Redirect.DISCARD);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("the child JVM with " + threads + " threads did not finish in 120 s");
        }
        assertEquals(0, p.exitValue(), "child JVM exit code, output: " + out);
        return out;
    }
}
