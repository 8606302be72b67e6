package org.attnkit.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The system property {@value GemmPrecision#PROPERTY} in fresh JVMs (this JVM may have read it already): read on
 * first use and only then, default FP32, a bad value an error naming the property on use.
 */
class GemmPrecisionPropertyTest {
    /** Prints the precision read first, then the one read after the property changed, or the error. */
    public static final class Child {
        public static void main(String[] args) {
            try {
                GemmPrecision first = Cuda.gemmPrecision();
                System.setProperty(GemmPrecision.PROPERTY, "bf16");
                System.out.println(first + " " + Cuda.gemmPrecision());
            } catch (IllegalArgumentException e) {
                Cuda.setGemmPrecision(GemmPrecision.TF32);
                System.out.println("error: " + e.getMessage() + " | after set: " + Cuda.gemmPrecision());
            }
        }
    }

    private static String child(String property) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of(java));
        if (property != null) {
            cmd.add("-D" + GemmPrecision.PROPERTY + "=" + property);
        }
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), Child.class.getName()));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.redirectError(ProcessBuilder.Redirect.DISCARD);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("the child JVM did not finish in 60 s");
        }
        assertEquals(0, p.exitValue(), "child JVM exit code, output: " + out);
        return out;
    }

    @Test
    void thePropertyIsReadOnceAtFirstUse() throws Exception {
        assertEquals("TF32 TF32", child("tf32"));
        assertEquals("BF16 BF16", child("BF16"));
    }

    @Test
    void withoutThePropertyTheDefaultIsFp32() throws Exception {
        assertEquals("FP32 FP32", child(null));
    }

    @Test
    void aBadValueIsAnErrorNamingThePropertyUntilAPrecisionIsSet() throws Exception {
        assertEquals("error: system property attnkit.cuda.gemm must be fp32, tf32 or bf16, got 'half' | after set: TF32",
                child("half"));
    }
}
