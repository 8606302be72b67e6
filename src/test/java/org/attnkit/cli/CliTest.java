package org.attnkit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.attnkit.backend.Backend;
import org.attnkit.backend.Backends;
import org.attnkit.backend.Kernels;
import org.attnkit.io.SafeTensors;
import org.attnkit.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The CLI run in-process, as {@code attnkit ARGS} would run it. */
class CliTest {
    @TempDir
    Path dir;

    record Run(int exit, String out, String err) {
        List<String> outLines() {
            return out.isEmpty() ? List.of() : Arrays.asList(out.split("\\R"));
        }

        String lastLine() {
            List<String> l = outLines();
            return l.isEmpty() ? "" : l.get(l.size() - 1);
        }

        /** Neither stream shows a stack trace. */
        void assertNoStackTrace() {
            for (String s : new String[] {out, err}) {
                assertFalse(s.contains("\tat ") || s.contains("Exception:") || s.contains("Exception\n"), s);
            }
        }
    }

    static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = Main.commandLine();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int exit = cl.execute(args);
        return new Run(exit, out.toString(), err.toString());
    }

    private Path caseFile(String name, String op, boolean withGradWeight) throws IOException {
        Map<String, Tensor> t = new LinkedHashMap<>();
        t.put("x", Tensor.randn(1, 1, 5, 4));
        t.put("weight", Tensor.randn(2, 2, 3));
        t.put("y", Tensor.zeros(1, 5, 4));
        t.put("grad_y", Tensor.randn(3, 1, 5, 4));
        t.put("grad_x", Tensor.zeros(1, 5, 4));
        if (withGradWeight) {
            t.put("grad_weight", Tensor.zeros(2, 3));
        }
        Map<String, String> meta = Map.of("op", op, "heads", "2", "kernel_size", "3", "padding_left", "1",
                "weight_softmax", "true");
        Path p = dir.resolve(name + ".safetensors");
        SafeTensors.write(p, t, meta);
        return p;
    }

    @Test
    void devicesDescribesTheCpuAndCuda() {
        Run r = run("devices");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().startsWith("CPU: " + Runtime.getRuntime().availableProcessors() + " available processors"),
                r.out());
        assertTrue(r.out().contains("Vector API: FloatVector.SPECIES_PREFERRED"), r.out());
        assertTrue(r.out().contains("max heap"), r.out());
        String note = DevicesCommand.jdkNote(Runtime.version().feature());
        assertEquals(note != null, r.out().contains("  note: JDK "), r.out());
        assertTrue(DevicesCommand.jdkNote(17).contains("prefer JDK 25 or newer"));
        assertNull(DevicesCommand.jdkNote(25));
        assertNull(DevicesCommand.jdkNote(26));
        CudaStatus.Probe cuda = CudaStatus.probe();
        if (cuda.available()) {
            assertTrue(r.out().contains("\nCUDA: " + cuda.devices().size() + " device(s)"), r.out());
        } else {
            // The probe's own reason (native library not built, no driver, ...), never an empty one.
            assertFalse(cuda.reason().isBlank());
            assertTrue(r.out().contains("\nCUDA: unavailable (" + cuda.reason() + ")"), r.out());
        }
    }

    @Test
    void checkOnANonexistentPathFailsWithOneLine() {
        Path missing = dir.resolve("nope");
        Run r = run("check", "--backend", "ref", missing.toString());
        assertEquals(Main.EXIT_FAILED, r.exit());
        assertEquals(List.of("FAIL  " + missing + "  error: no such file or directory", "0 passed, 1 failed"),
                r.outLines());
        r.assertNoStackTrace();
    }

    @Test
    void checkOnAnUnknownOpFailsOnceNamingTheFileAndTheOp() throws IOException {
        Path p = caseFile("strange", "frobnicate", true);
        Run r = run("check", p.toString());   // all backends: still one failure, the file is bad
        assertEquals(Main.EXIT_FAILED, r.exit());
        String line = r.outLines().stream().filter(l -> l.startsWith("FAIL")).findFirst().orElseThrow();
        assertTrue(line.matches("FAIL  strange  error: .*strange\\.safetensors: unknown op 'frobnicate'.*"), line);
        assertEquals("0 passed, 1 failed", r.lastLine());
        r.assertNoStackTrace();
    }

    @Test
    void checkOnACaseWithoutAReferenceGradientNamesIt() throws IOException {
        Path p = caseFile("incomplete", "lightconv", false);
        Run r = run("check", "--backend", "ref", p.toString());
        assertEquals(Main.EXIT_FAILED, r.exit());
        assertTrue(r.out().contains("missing tensor 'grad_weight'"), r.out());
        assertEquals("0 passed, 1 failed", r.lastLine());
        r.assertNoStackTrace();
    }

    @Test
    void checkOnAMalformedFileFailsThatCaseAndGoesOn() throws IOException {
        Path bad = dir.resolve("a_bad.safetensors");
        Files.write(bad, new byte[] {7, 0, 0});
        Path missing = dir.resolve("b_missing.safetensors");
        Run r = run("check", "--backend", "ref", bad.toString(), missing.toString());
        assertEquals(Main.EXIT_FAILED, r.exit());
        assertEquals(3, r.outLines().size(), r.out());
        assertTrue(r.outLines().get(0).contains("truncated file"), r.out());
        assertTrue(r.outLines().get(1).contains("no such file or directory"), r.out());
        assertEquals("0 passed, 2 failed", r.lastLine());
        r.assertNoStackTrace();
    }

    @Test
    void checkOnADirectoryWithoutCasesFails() {
        Run r = run("check", "--backend", "ref", dir.toString());
        assertEquals(Main.EXIT_FAILED, r.exit());
        assertTrue(r.out().contains("no *.safetensors files in this directory"), r.out());
    }

    @Test
    void checkOnTheGoldenDirectoryReportsEveryCaseOnEveryCpuBackend() throws IOException {
        List<Path> cases = GoldenTest.cases();
        Run r = run("check", GoldenTest.goldenDir().toString());
        r.assertNoStackTrace();
        for (Path c : cases) {
            String name = Golden.caseName(c);
            for (String backend : new String[] {"ref ", "simd"}) {
                long lines = r.outLines().stream()
                        .filter(l -> l.matches("(PASS|FAIL|SKIP)  " + Pattern.quote(name) + " +" + backend + ".*"))
                        .count();
                assertEquals(1, lines, name + " " + backend + " in:\n" + r.out());
            }
        }
        assertTrue(r.out().startsWith("SKIP  cuda  skipped: " + CudaStatus.probe().reason()), r.out());
        Matcher m = Pattern.compile("(\\d+) passed, (\\d+) failed(?:, (\\d+) skipped)?").matcher(r.lastLine());
        assertTrue(m.matches(), r.lastLine());
        int passed = Integer.parseInt(m.group(1));
        int failed = Integer.parseInt(m.group(2));
        int skipped = m.group(3) == null ? 0 : Integer.parseInt(m.group(3));
        assertEquals(2 * cases.size(), passed + failed + skipped);
        assertEquals(failed > 0 ? Main.EXIT_FAILED : Main.EXIT_OK, r.exit());
    }

    @Test
    void recognizesTheDispatchersMissingBackendErrorAndNothingElse() {
        // check turns exactly this error into "skipped": an op without a SIMD kernel is not a failure.
        Kernels<Object> refOnly = Kernels.of("someop", new Object());
        UnsupportedOperationException e;
        try (Backends.Scope ignored = Backends.force(Backend.SIMD)) {
            e = assertThrows(UnsupportedOperationException.class, () -> refOnly.select(Tensor.zeros(2)));
        }
        assertTrue(CheckCommand.missingBackend(e, Backend.SIMD), e.getMessage());
        assertFalse(CheckCommand.missingBackend(e, Backend.CUDA), e.getMessage());
        assertFalse(CheckCommand.missingBackend(new UnsupportedOperationException("someop: not implemented yet"),
                Backend.SIMD));
    }

    @Test
    void anExplicitCudaBackendFailsWithExitCode2() throws IOException {
        Run r = run("check", "--backend", "cuda", caseFile("c", "lightconv", true).toString());
        assertEquals(Main.EXIT_USAGE, r.exit());
        assertEquals("attnkit check: error: --backend cuda: CUDA is unavailable (" + CudaStatus.probe().reason() + ")",
                r.err().strip());
        r.assertNoStackTrace();
    }

    @Test
    void anUnknownBackendIsRejected() {
        Run r = run("check", "--backend", "bogus", "x.safetensors");
        assertEquals(Main.EXIT_USAGE, r.exit());
        assertTrue(r.err().contains("--backend") && r.err().contains("'bogus'"), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertEquals("", r.out());
    }

    @Test
    void checkWithoutPathsAndNoCommandAreUsageErrors() {
        Run r = run("check");
        assertEquals(Main.EXIT_USAGE, r.exit());
        assertTrue(r.err().contains("FILE|DIR"), r.err());
        r = run();
        assertEquals(Main.EXIT_USAGE, r.exit());
        assertTrue(r.err().contains("missing command"), r.err());
    }

    @Test
    void versionAndHelp() {
        Run v = run("--version");
        assertEquals(0, v.exit());
        assertTrue(v.out().startsWith("attnkit "), v.out());
        Run h = run("--help");
        assertEquals(0, h.exit());
        assertTrue(h.out().contains("check") && h.out().contains("devices"), h.out());
        Run ch = run("check", "--help");
        assertEquals(0, ch.exit());
        assertTrue(ch.out().contains("--backend"), ch.out());
    }
}
