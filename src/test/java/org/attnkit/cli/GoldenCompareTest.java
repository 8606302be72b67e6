package org.attnkit.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.Map;
import org.attnkit.io.SafeTensorsFile;
import org.attnkit.tensor.Tensor;
import org.junit.jupiter.api.Test;

/** The harness itself: the tolerance rule, what it reports, and how it rejects incomplete cases. */
class GoldenCompareTest {
    private static final double ATOL = 1e-4;
    private static final double RTOL = 1e-3;

    @Test
    void passesAtTheToleranceAndFailsJustPastIt() {
        Tensor ref = Tensor.of(new double[] {2.0, -3.0, 0.0}, 3);
        double tol0 = ATOL + RTOL * 2.0;
        double tol1 = ATOL + RTOL * 3.0;
        Tensor inside = Tensor.of(new double[] {2.0 + 0.99 * tol0, -3.0 - 0.99 * tol1, 0.99 * ATOL}, 3);
        Golden.Comparison ok = Golden.compare("y", inside, ref, ATOL, RTOL);
        assertTrue(ok.pass(), ok.describe());
        assertEquals(0.99 * tol1, ok.maxAbsError(), 1e-12);

        Tensor outside = Tensor.of(new double[] {2.0, -3.0, 1.01 * ATOL}, 3);
        Golden.Comparison bad = Golden.compare("y", outside, ref, ATOL, RTOL);
        assertFalse(bad.pass());
        assertArrayEquals(new int[] {2}, bad.worstIndex());
        assertTrue(bad.describe().startsWith("y 1.0e-04 FAIL (at [2]"), bad.describe());
    }

    @Test
    void reportsTheElementWorstRelativeToItsToleranceAsAMultiIndex() {
        // The largest absolute error (at [0,0], on a large value) is within tolerance; [1,2] is not.
        Tensor ref = Tensor.of(new double[] {1000, 0, 0, 0, 0, 0}, 2, 3);
        Tensor got = Tensor.of(new double[] {1000.5, 0, 0, 0, 0, 5e-4}, 2, 3);
        Golden.Comparison c = Golden.compare("grad_x", got, ref, ATOL, RTOL);
        assertFalse(c.pass());
        assertArrayEquals(new int[] {1, 2}, c.worstIndex());
        assertEquals(5e-4, c.actual(), 0);
        assertEquals(0.5, c.maxAbsError(), 1e-12);
    }

    @Test
    void aNaNNeverPasses() {
        Tensor ref = Tensor.of(new double[] {1, 2}, 2);
        Golden.Comparison c = Golden.compare("y", Tensor.of(new double[] {1, Double.NaN}, 2), ref, ATOL, RTOL);
        assertFalse(c.pass());
        assertTrue(Double.isNaN(c.maxAbsError()));
        assertArrayEquals(new int[] {1}, c.worstIndex());
    }

    @Test
    void aShapeMismatchFailsNamingBothShapes() {
        Golden.Comparison c = Golden.compare("gate", Tensor.zeros(2, 8), Tensor.zeros(2, 11, 8), ATOL, RTOL);
        assertFalse(c.pass());
        assertTrue(c.describe().contains("gate FAIL (shape [2, 8], want [2, 11, 8])"), c.describe());
    }

    private static SafeTensorsFile lightconvCase(Map<String, String> meta, String... omit) {
        Map<String, Tensor> t = new LinkedHashMap<>();
        t.put("x", Tensor.zeros(1, 5, 4));
        t.put("weight", Tensor.zeros(2, 3));
        for (String n : new String[] {"y", "grad_y", "grad_x"}) {
            t.put(n, Tensor.zeros(1, 5, 4));
        }
        t.put("grad_weight", Tensor.zeros(2, 3));
        for (String o : omit) {
            t.remove(o);
        }
        return new SafeTensorsFile("dir/case.safetensors", t, meta);
    }

    private static Map<String, String> lightconvMeta() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("op", "lightconv");
        m.put("heads", "2");
        m.put("kernel_size", "3");
        m.put("padding_left", "1");
        m.put("weight_softmax", "true");
        return m;
    }

    private static void assertInvalid(SafeTensorsFile f, String... fragments) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Golden.validate(f));
        assertTrue(e.getMessage().startsWith("dir/case.safetensors: "), e.getMessage());
        for (String s : fragments) {
            assertTrue(e.getMessage().contains(s), "'" + s + "' not in: " + e.getMessage());
        }
    }

    @Test
    void aCompleteCaseValidates() {
        Golden.validate(lightconvCase(lightconvMeta()));
        assertEquals("case", Golden.caseName(lightconvCase(lightconvMeta())));
    }

    @Test
    void rejectsAnUnknownOpNamingTheKnownOnes() {
        Map<String, String> m = lightconvMeta();
        m.put("op", "frobnicate");
        assertInvalid(lightconvCase(m), "unknown op 'frobnicate'", "lightconv, dynamicconv, mae");
    }

    @Test
    void rejectsAMissingMetadataKey() {
        Map<String, String> m = lightconvMeta();
        m.remove("padding_left");
        assertInvalid(lightconvCase(m), "missing metadata key 'padding_left'");
        m = lightconvMeta();
        m.remove("op");
        assertInvalid(lightconvCase(m), "missing metadata key 'op'");
    }

    @Test
    void rejectsAMissingInputOrReference() {
        assertInvalid(lightconvCase(lightconvMeta(), "weight"), "missing tensor 'weight'");
        assertInvalid(lightconvCase(lightconvMeta(), "grad_weight"), "missing tensor 'grad_weight'");
        assertInvalid(lightconvCase(lightconvMeta(), "grad_y"), "missing tensor 'grad_y'");
    }

    @Test
    void rejectsABiasWithoutItsGradient() {
        SafeTensorsFile f = lightconvCase(lightconvMeta());
        Map<String, Tensor> t = new LinkedHashMap<>(f.tensors());
        t.put("bias", Tensor.zeros(4));
        assertInvalid(new SafeTensorsFile(f.source(), t, f.metadata()), "missing tensor 'grad_bias'");
    }

    @Test
    void rejectsMetadataThatContradictsTheWeightShape() {
        Map<String, String> m = lightconvMeta();
        m.put("kernel_size", "5");
        assertInvalid(lightconvCase(m), "[heads, kernel_size] = [2, 5]", "got [2, 3]");
    }

    @Test
    void rejectsAMaeCaseWithoutTheGate() {
        Map<String, Tensor> t = new LinkedHashMap<>();
        for (String n : new String[] {"x", "Wq", "Wk", "Wv", "Wo", "G1", "g1", "G2", "g2", "membership", "y", "grad_y"}) {
            t.put(n, Tensor.zeros(1));
        }
        SafeTensorsFile f = new SafeTensorsFile("dir/case.safetensors", t,
                Map.of("op", "mae", "heads", "4", "causal", "false"));
        assertInvalid(f, "missing tensor 'gate'");
    }
}
