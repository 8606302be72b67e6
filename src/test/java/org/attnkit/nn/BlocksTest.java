package org.attnkit.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.attnkit.ops.activation.Erf;
import org.attnkit.ops.reduce.Sum;
import org.attnkit.tensor.Tensor;
import org.junit.jupiter.api.Test;

class BlocksTest {
    private static final int B = 2;
    private static final int T = 5;
    private static final int D = 8;
    private static final int H = 4;

    private static Tensor input(long seed) {
        return Tensor.randn(seed, B, T, D);
    }

    private static void assertClose(float[] expected, float[] actual, double tol) {
        assertEquals(expected.length, actual.length);
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], tol, "element " + i);
        }
    }

    @Test
    void talkingHeadsWithIdentityMixesIsMultiHeadAttention() {
        LayerConfig c = new LayerConfig(D, 16, H, true, 0, 3);
        MultiHeadAttentionBlock mha = new MultiHeadAttentionBlock(new SplittableRandom(7), c);
        TalkingHeadsAttention th = new TalkingHeadsAttention(new SplittableRandom(7), c);
        for (Tensor p : List.of(th.preMix, th.postMix)) {
            Arrays.fill(p.data(), 0f);
            for (int i = 0; i < H; i++) {
                p.data()[i * H + i] = 1f;
            }
        }
        Tensor x = input(1);
        assertClose(mha.forward(x).toArray(), th.forward(x).toArray(), 1e-5);
        // And the mixes matter: a non-identity pre-mix changes the output.
        th.preMix.data()[1] = 0.5f;
        assertFalse(Arrays.equals(mha.forward(x).toArray(), th.forward(x).toArray()));
    }

    @Test
    void mixtureOfHeadsWithAUniformGateIsMultiHeadAttention() {
        LayerConfig c = new LayerConfig(D, 0, H, false, 0, 3);
        MultiHeadAttentionBlock mha = new MultiHeadAttentionBlock(new SplittableRandom(11), c);
        MixtureOfHeadsBlock mae = new MixtureOfHeadsBlock(new SplittableRandom(11), c, 6);
        Tensor x = input(2);
        // The gate's last layer starts at zero, so g = 1/H and alpha = H/(H-1) (1 - 1/H) = 1.
        assertClose(mha.forward(x).toArray(), mae.forward(x).toArray(), 1e-5);
        float[] g = mae.lastGate().toArray();
        for (float v : g) {
            assertEquals(1.0 / H, v, 1e-7);
        }
    }

    @Test
    void sampledExpertModeDropsOneHeadPerSequenceAndGivesTheGateNoGradient() {
        LayerConfig c = new LayerConfig(D, 0, H, false, 0, 3);
        MixtureOfHeadsBlock mae = new MixtureOfHeadsBlock(new SplittableRandom(11), c, 6);
        mae.setGateMode(MixtureOfHeadsBlock.GateMode.SAMPLED);
        mae.setStep(5);
        Tensor x = input(3);
        Tensor y = mae.forward(x);
        Sum.apply(y).backward();
        for (Tensor p : mae.gateParameters()) {
            assertEquals(null, p.grad(), "the F-step must not reach the gate");
        }
        for (Tensor p : mae.expertParameters()) {
            assertNotNull(p.grad());
        }
        mae.zeroGrad();
        // Same step, same sample; the mixture (eval mode) differs from the sample.
        assertArrayEquals(y.toArray(), mae.forward(x).toArray());
        mae.train(false);
        assertFalse(Arrays.equals(y.toArray(), mae.forward(x).toArray()));
    }

    private static double gelu(double v) {
        return 0.5 * v * (1 + Erf.erf(v / Math.sqrt(2)));
    }

    /** out[r, o] = act(sum_i x[r, i] w[o, i] + b[o]). */
    private static double[] dense(double[] x, int rows, int in, Tensor w, Tensor b, boolean act) {
        double[] wd = w.toDoubleArray();
        double[] bd = b.toDoubleArray();
        int out = w.dim(0);
        double[] y = new double[rows * out];
        for (int r = 0; r < rows; r++) {
            for (int o = 0; o < out; o++) {
                double s = bd[o];
                for (int i = 0; i < in; i++) {
                    s += x[r * in + i] * wd[o * in + i];
                }
                y[r * out + o] = act ? gelu(s) : s;
            }
        }
        return y;
    }

    @Test
    void summaryMixingMatchesANaiveLoopImplementation() {
        int dl = 6;
        int ds = 5;
        LayerConfig c = new LayerConfig(D, 0, H, false, 0, 3); // Post-LN, no FFN: y = LN(x + mix(x))
        SummaryMixingBlock sm = new SummaryMixingBlock(new SplittableRandom(5), c, dl, ds);
        Map<String, Tensor> p = sm.namedParameters();
        Tensor x = input(4);
        double[] xd = x.toDoubleArray();
        double[] f = dense(xd, B * T, D, p.get("local.weight"), p.get("local.bias"), true);
        double[] s = dense(xd, B * T, D, p.get("summary.weight"), p.get("summary.bias"), true);
        double[] cat = new double[B * T * (dl + ds)];
        for (int b = 0; b < B; b++) {
            double[] mean = new double[ds];
            for (int t = 0; t < T; t++) {
                for (int j = 0; j < ds; j++) {
                    mean[j] += s[(b * T + t) * ds + j] / T;
                }
            }
            for (int t = 0; t < T; t++) {
                int r = b * T + t;
                System.arraycopy(f, r * dl, cat, r * (dl + ds), dl);
                System.arraycopy(mean, 0, cat, r * (dl + ds) + dl, ds);
            }
        }
        double[] mix = dense(cat, B * T, dl + ds, p.get("combine.weight"), p.get("combine.bias"), true);
        float[] expected = new float[B * T * D];
        for (int r = 0; r < B * T; r++) {
            double mu = 0;
            for (int i = 0; i < D; i++) {
                mu += (xd[r * D + i] + mix[r * D + i]) / D;
            }
            double var = 0;
            for (int i = 0; i < D; i++) {
                double e = xd[r * D + i] + mix[r * D + i] - mu;
                var += e * e / D;
            }
            for (int i = 0; i < D; i++) {
                expected[r * D + i] = (float) ((xd[r * D + i] + mix[r * D + i] - mu) / Math.sqrt(var + 1e-5));
            }
        }
        assertClose(expected, sm.forward(x).toArray(), 1e-4);
    }

    @Test
    void everyMixerKeepsTheShapeAndBackpropagatesToEveryParameter() {
        for (MixerType type : MixerType.values()) {
            LayerConfig c = new LayerConfig(D, 16, H, type.ordinal() % 2 == 0, 0.1, 3);
            EncoderLayer layer = Encoder.layer(new SplittableRandom(1), type, c, 3);
            layer.setStep(2);
            Tensor x = input(5).requiresGrad(true);
            Tensor y = layer.forward(x);
            assertEquals(x.shape(), y.shape(), type.id);
            Sum.apply(org.attnkit.ops.arith.Mul.apply(y, Tensor.randn(9, B, T, D))).backward();
            assertNotNull(x.grad(), type.id);
            layer.namedParameters().forEach((n, t) -> assertNotNull(t.grad(), type.id + " parameter " + n));
        }
    }

    @Test
    void encoderTakesOneKernelSizePerLayerAndNamesParametersByPath() {
        Encoder enc = new Encoder(new SplittableRandom(1), MixerType.LIGHTCONV, 10,
                new LayerConfig(D, 16, H, true, 0, 1), new int[] {3, 7, 15, 31}, true);
        assertEquals(4, enc.layers().size());
        int[] ks = enc.layers().stream().mapToInt(l -> ((LightConvBlock) l).kernelSize).toArray();
        assertArrayEquals(new int[] {3, 7, 15, 31}, ks);
        Map<String, Tensor> p = enc.namedParameters();
        assertEquals(List.of(H, 31), List.of(p.get("3.weight").dim(0), p.get("3.weight").dim(1)));
        assertTrue(p.containsKey("embed.weight") && p.containsKey("0.in.weight") && p.containsKey("final_norm.weight"),
                p.keySet().toString());
        // T = 16 > P = 15 of the widest kernel: the SIMD LightConv fails when P >= T (reported).
        int[] ids = new int[2 * 16];
        Arrays.setAll(ids, i -> i % 10);
        Tensor y = enc.forward(ids, 2, 16);
        assertEquals(List.of(2, 16, D), List.of(y.dim(0), y.dim(1), y.dim(2)));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new LightConvBlock(new SplittableRandom(1), new LayerConfig(D, 0, H, true, 0, 1), 4, 0));
        assertTrue(e.getMessage().contains("kernelSize") && e.getMessage().contains("4"), e.getMessage());
    }

    @Test
    void postLnOutputRowsAreNormalizedAndPreLnKeepsTheResidual() {
        LayerConfig post = new LayerConfig(D, 16, H, false, 0, 3);
        float[] y = new LightConvBlock(new SplittableRandom(2), post, 3, 0).forward(input(6)).toArray();
        for (int r = 0; r < B * T; r++) {
            double mu = 0;
            double sq = 0;
            for (int i = 0; i < D; i++) {
                mu += y[r * D + i] / D;
                sq += (double) y[r * D + i] * y[r * D + i] / D;
            }
            assertEquals(0, mu, 1e-5);
            assertEquals(1, sq - mu * mu, 1e-3);
        }
        // Pre-LN with zeroed output projections is the identity: x + 0 + 0.
        LightConvBlock pre = new LightConvBlock(new SplittableRandom(2), new LayerConfig(D, 16, H, true, 0, 3), 3, 0);
        pre.namedParameters().forEach((n, t) -> {
            if (n.startsWith("out.") || n.startsWith("ff2.")) {
                Arrays.fill(t.data(), 0f);
            }
        });
        Tensor x = input(7);
        assertArrayEquals(x.toArray(), pre.forward(x).toArray());
    }

    @Test
    void sinusoidalTableFollowsTheFormula() {
        Tensor pe = SinusoidalPositions.table(7, 6);
        assertEquals(Math.sin(5 / Math.pow(10000, 2.0 / 6)), pe.get(5, 2), 1e-6);
        assertEquals(Math.cos(3 / Math.pow(10000, 4.0 / 6)), pe.get(3, 5), 1e-6);
        assertEquals(1.0, pe.get(0, 1), 0);
    }
}
