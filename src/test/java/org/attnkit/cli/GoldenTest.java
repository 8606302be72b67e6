package org.attnkit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.attnkit.backend.Backend;
import org.attnkit.io.SafeTensors;
import org.attnkit.io.SafeTensorsFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every golden case (PyTorch, float64, see src/test/resources/golden/README.md) on the reference
 * backend: each output and gradient within the SPEC tolerances.
 */
class GoldenTest {
    static Path goldenDir() {
        try {
            return Path.of(GoldenTest.class.getResource("/golden").toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    static List<Path> cases() throws IOException {
        try (Stream<Path> s = Files.list(goldenDir())) {
            return s.filter(p -> p.getFileName().toString().endsWith(".safetensors")).sorted().toList();
        }
    }

    @Test
    void theGoldenSetCoversEveryOp() throws IOException {
        Set<String> ops = new TreeSet<>();
        for (Path p : cases()) {
            ops.add(SafeTensors.read(p).meta("op"));
        }
        assertTrue(cases().size() >= 11, "golden cases found: " + cases());
        assertEquals(new TreeSet<>(Golden.OPS), ops);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void matchesTheGoldenValuesOnTheReferenceBackend(Path file) throws IOException {
        SafeTensorsFile f = SafeTensors.read(file);
        Golden.Result r = Golden.run(f, Backend.REF);
        assertTrue(r.passed(), r.caseName() + ": " + r.summary());
        // Every stored result was compared: y (and gate), and a gradient per input.
        long stored = f.names().stream().filter(n -> n.equals("y") || n.equals("gate")
                || (n.startsWith("grad_") && !n.equals("grad_y"))).count();
        assertEquals(stored, r.comparisons().size(), r.summary());
    }
}
