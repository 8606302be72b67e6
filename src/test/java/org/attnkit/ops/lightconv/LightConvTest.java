package org.attnkit.ops.lightconv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.attnkit.autograd.GradCheck;
import org.attnkit.random.DropConnect;
import org.attnkit.random.Philox;
import org.attnkit.tensor.DType;
import org.attnkit.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

class LightConvTest {

    // ------------------------------------------------------------------ independent formulation

    /**
     * The dense band-matrix form (SPEC 1.9): per (b,h) a T x T matrix M[t, t+k-P] = w~[b,t,h,k] for
     * in-range columns, and y_h = M x_h. The mask (when p > 0) comes straight from Philox.keep.
     */
    private static double[] bandMatrixReference(double[] x, int batch, int time, int channels, double[] w, int heads,
            int kernelSize, double[] bias, int pad, boolean softmax, double p, long seed, long offset,
            DropConnect.Scope scope) {
        double[] wn = new double[w.length];
        for (int h = 0; h < heads; h++) {
            double sum = 0;
            for (int k = 0; k < kernelSize; k++) {
                sum += softmax ? Math.exp(w[h * kernelSize + k]) : 0;
            }
            for (int k = 0; k < kernelSize; k++) {
                wn[h * kernelSize + k] = softmax ? Math.exp(w[h * kernelSize + k]) / sum : w[h * kernelSize + k];
            }
        }
        int perHead = channels / heads;
        double[] y = new double[batch * time * channels];
        for (int b = 0; b < batch; b++) {
            for (int h = 0; h < heads; h++) {
                double[][] band = new double[time][time];
                for (int t = 0; t < time; t++) {
                    for (int k = 0; k < kernelSize; k++) {
                        int col = t + k - pad;
                        if (col < 0 || col >= time) {
                            continue;
                        }
                        double keepScale = 1;
                        if (p > 0) {
                            long index = scope == DropConnect.Scope.HEAD_KERNEL
                                    ? (long) h * kernelSize + k
                                    : (((long) b * time + t) * heads + h) * kernelSize + k;
                            keepScale = Philox.keep(seed, offset, index, p) ? 1 / (1 - p) : 0;
                        }
                        band[t][col] = wn[h * kernelSize + k] * keepScale;
                    }
                }
                for (int r = 0; r < perHead; r++) {
                    int c = h * perHead + r;
                    for (int t = 0; t < time; t++) {
                        double acc = bias == null ? 0 : bias[c];
                        for (int s = 0; s < time; s++) {
                            acc += band[t][s] * x[(b * time + s) * channels + c];
                        }
                        y[(b * time + t) * channels + c] = acc;
                    }
                }
            }
        }
        return y;
    }

    private static Tensor f64(long seed, int... shape) {
        return Tensor.randn(seed, shape).to(DType.F64);
    }

    private static void assertClose(double[] expected, double[] actual, double atol, double rtol, String what) {
        assertEquals(expected.length, actual.length, what + ": length");
        for (int i = 0; i < expected.length; i++) {
            double tol = atol + rtol * Math.abs(expected[i]);
            assertTrue(Math.abs(expected[i] - actual[i]) <= tol,
                    what + ": element " + i + " expected " + expected[i] + " got " + actual[i]);
        }
    }

    private static void checkAgainstBand(int batch, int time, int heads, int perHead, int kernelSize, int pad,
            boolean softmax, boolean withBias, DropConnect drop, long seed) {
        int channels = heads * perHead;
        Tensor x = f64(seed, batch, time, channels);
        Tensor w = f64(seed + 1, heads, kernelSize);
        Tensor bias = withBias ? f64(seed + 2, channels) : null;
        LightConv.Options opt = new LightConv.Options(pad, softmax, drop);
        double[] y = LightConv.apply(x, w, bias, opt).toDoubleArray();
        double[] expected = bandMatrixReference(x.toDoubleArray(), batch, time, channels, w.toDoubleArray(), heads,
                kernelSize, bias == null ? null : bias.toDoubleArray(), pad, softmax, drop.p(), drop.seed(),
                drop.offset(), drop.scope());
        String what = String.format("B=%d T=%d H=%d R=%d K=%d P=%d softmax=%b bias=%b drop=%s", batch, time, heads,
                perHead, kernelSize, pad, softmax, withBias, drop);
        // Both sides are double sums of a handful of O(1) terms in different orders.
        assertClose(expected, y, 1e-12, 1e-12, what);
    }

    // ------------------------------------------------------------------ forward

    @Test
    void forwardMatchesBandMatrixOnSeededRandomShapes() {
        SplittableRandom rnd = new SplittableRandom(20261125);
        for (int i = 0; i < 60; i++) {
            int kernelSize = 1 + rnd.nextInt(7);
            checkAgainstBand(1 + rnd.nextInt(3), 1 + rnd.nextInt(9), 1 + rnd.nextInt(3), 1 + rnd.nextInt(3),
                    kernelSize, rnd.nextInt(kernelSize), rnd.nextBoolean(), rnd.nextBoolean(), DropConnect.NONE,
                    1000 + i);
        }
    }

    @Test
    void forwardMatchesBandMatrixOnAwkwardShapes() {
        checkAgainstBand(2, 3, 2, 2, 7, 3, true, true, DropConnect.NONE, 1); // T < K, centered
        checkAgainstBand(2, 3, 2, 2, 7, 6, true, false, DropConnect.NONE, 2); // T < K, causal
        checkAgainstBand(2, 2, 2, 1, 5, 1, false, true, DropConnect.NONE, 3); // T < K, arbitrary P
        checkAgainstBand(3, 6, 1, 4, 3, 1, true, false, DropConnect.NONE, 4); // H = 1
        checkAgainstBand(2, 6, 4, 1, 3, 2, true, true, DropConnect.NONE, 5); // C = H (R = 1)
        checkAgainstBand(2, 6, 2, 3, 1, 0, true, true, DropConnect.NONE, 6); // K = 1 (softmax gives weight 1)
        checkAgainstBand(2, 6, 2, 3, 1, 0, false, false, DropConnect.NONE, 7); // K = 1 without softmax
        checkAgainstBand(2, 8, 2, 2, 4, 0, true, true, DropConnect.NONE, 8); // even K, P = 0 (anti-causal)
        checkAgainstBand(2, 8, 2, 2, 4, 2, true, false, DropConnect.NONE, 9); // even K, P = K/2
        checkAgainstBand(2, 8, 2, 2, 6, 1, false, true, DropConnect.NONE, 10); // even K, arbitrary P
        checkAgainstBand(1, 1, 1, 1, 3, 2, true, true, DropConnect.NONE, 11); // T = 1
    }

    @Test
    void forwardInFloat32MatchesTheDoubleDefinition() {
        Tensor x = Tensor.randn(31, 2, 11, 12);
        Tensor w = Tensor.randn(32, 4, 5);
        Tensor bias = Tensor.randn(33, 12);
        Tensor y = LightConv.apply(x, w, bias, LightConv.Options.padded(1));
        assertEquals(DType.F32, y.dtype());
        double[] expected = bandMatrixReference(x.toDoubleArray(), 2, 11, 12, w.toDoubleArray(), 4, 5,
                bias.toDoubleArray(), 1, true, 0, 0, 0, DropConnect.Scope.HEAD_KERNEL);
        // float32 rounding of the output only: the reference accumulates in double.
        assertClose(expected, y.toDoubleArray(), 1e-6, 1e-6, "f32");
    }

    @Test
    void centeredAndCausalFactoriesUseTheSpecPadding() {
        assertEquals(3, LightConv.Options.centered(7).paddingLeft());
        assertEquals(6, LightConv.Options.causal(7).paddingLeft());
        assertTrue(LightConv.Options.centered(7).weightSoftmax());
        assertEquals(DropConnect.NONE, LightConv.Options.causal(7).dropConnect());
        // causal: y[t] must not depend on x[t+1..]; perturb the future and compare the past.
        Tensor x = f64(40, 1, 6, 2);
        Tensor w = f64(41, 1, 4);
        double[] y1 = LightConv.apply(x, w, null, LightConv.Options.causal(4)).toDoubleArray();
        double[] xv = x.toDoubleArray();
        xv[5 * 2] += 10;
        xv[5 * 2 + 1] -= 3;
        double[] y2 = LightConv.apply(Tensor.wrap(xv, 1, 6, 2), w, null, LightConv.Options.causal(4))
                .toDoubleArray();
        for (int i = 0; i < 5 * 2; i++) {
            assertEquals(y1[i], y2[i], 0.0, "causal output " + i + " saw the future");
        }
        assertFalse(y1[10] == y2[10], "the last step must see x[T-1]");
    }

    // ------------------------------------------------------------------ DropConnect

    @Test
    void dropConnectDropsExactlyThePhiloxEntriesForBothScopes() {
        for (DropConnect.Scope scope : DropConnect.Scope.values()) {
            DropConnect drop = new DropConnect(0.3, 77, 5, scope);
            checkAgainstBand(2, 7, 2, 3, 5, 2, true, true, drop, 50);
            checkAgainstBand(3, 4, 3, 1, 6, 4, false, false, drop, 51);
        }
    }

    @Test
    void dropConnectWithZeroProbabilityIsNoDropConnect() {
        Tensor x = f64(60, 2, 7, 6);
        Tensor w = f64(61, 3, 5);
        for (DropConnect.Scope scope : DropConnect.Scope.values()) {
            double[] plain = LightConv.apply(x, w, null, LightConv.Options.centered(5)).toDoubleArray();
            double[] zero = LightConv.apply(x, w, null,
                    LightConv.Options.centered(5).withDropConnect(new DropConnect(0, 123, 9, scope))).toDoubleArray();
            assertArrayEquals(plain, zero, 0.0);
        }
    }

    @Test
    void headKernelMaskIsSharedOverBatchAndTimeWhilePositionMaskIsNot() {
        // Two identical batch rows of a constant signal: with one H x K mask both rows, and all steps
        // whose taps are in range, give the same output; a per-position mask makes them differ.
        int time = 12;
        int kernelSize = 5;
        double[] xv = new double[2 * time];
        java.util.Arrays.fill(xv, 1.0);
        Tensor x = Tensor.wrap(xv, 2, time, 1);
        Tensor w = f64(70, 1, kernelSize);
        for (DropConnect.Scope scope : DropConnect.Scope.values()) {
            LightConv.Options opt = LightConv.Options.centered(kernelSize)
                    .withDropConnect(new DropConnect(0.5, 2024, 0, scope));
            double[] y = LightConv.apply(x, w, null, opt).toDoubleArray();
            boolean allSame = true;
            for (int t = 2; t < time - 2; t++) {
                allSame &= y[t] == y[2] && y[time + t] == y[2];
            }
            if (scope == DropConnect.Scope.HEAD_KERNEL) {
                assertTrue(allSame, "HEAD_KERNEL must share one mask over b and t");
            } else {
                assertFalse(allSame, "POSITION must draw a mask per (b,t)");
            }
        }
    }

    @Test
    void dropConnectOffsetChangesTheMask() {
        Tensor x = f64(80, 2, 9, 4);
        Tensor w = f64(81, 2, 5);
        LightConv.Options a = LightConv.Options.centered(5).withDropConnect(
                new DropConnect(0.4, 7, 0, DropConnect.Scope.POSITION));
        LightConv.Options b = a.withDropConnect(new DropConnect(0.4, 7, 1, DropConnect.Scope.POSITION));
        assertFalse(java.util.Arrays.equals(LightConv.apply(x, w, null, a).toDoubleArray(),
                LightConv.apply(x, w, null, b).toDoubleArray()));
    }

    // ------------------------------------------------------------------ gradients

    private static void gradCheck(int batch, int time, int heads, int perHead, int kernelSize, LightConv.Options opt,
            boolean withBias, long seed) {
        int channels = heads * perHead;
        Tensor x = f64(seed, batch, time, channels).requiresGrad(true);
        Tensor w = f64(seed + 1, heads, kernelSize).requiresGrad(true);
        Tensor bias = withBias ? f64(seed + 2, channels).requiresGrad(true) : null;
        GradCheck.assertGradients(in -> LightConv.apply(in[0], in[1], in[2], opt), x, w, bias);
    }

    @Test
    void gradientsMatchFiniteDifferencesWithSoftmax() {
        gradCheck(2, 5, 2, 2, 3, LightConv.Options.centered(3), true, 100);
        gradCheck(2, 4, 2, 1, 4, LightConv.Options.causal(4), false, 101);
        gradCheck(1, 3, 1, 2, 6, LightConv.Options.padded(2), true, 102); // T < K, arbitrary P
    }

    @Test
    void gradientsMatchFiniteDifferencesWithoutSoftmax() {
        gradCheck(2, 5, 2, 2, 3, LightConv.Options.centered(3).withWeightSoftmax(false), true, 110);
        gradCheck(2, 4, 3, 1, 4, LightConv.Options.padded(3).withWeightSoftmax(false), false, 111);
    }

    @Test
    void gradientsMatchFiniteDifferencesForKernelSizeOne() {
        gradCheck(2, 3, 2, 2, 1, LightConv.Options.padded(0), true, 120);
        gradCheck(2, 3, 2, 2, 1, LightConv.Options.padded(0).withWeightSoftmax(false), true, 121);
    }

    @Test
    void gradientsMatchFiniteDifferencesWithDropConnectBothScopes() {
        for (DropConnect.Scope scope : DropConnect.Scope.values()) {
            DropConnect drop = new DropConnect(0.3, 4242, 3, scope);
            gradCheck(2, 5, 2, 2, 3, LightConv.Options.centered(3).withDropConnect(drop), true, 130);
            gradCheck(2, 4, 2, 1, 5, LightConv.Options.padded(1).withWeightSoftmax(false).withDropConnect(drop),
                    false, 131);
        }
    }

    @Test
    void gradientOfWeightAloneMatchesFiniteDifferences() {
        Tensor x = f64(140, 2, 5, 4); // not a parameter
        Tensor w = f64(141, 2, 3).requiresGrad(true);
        GradCheck.assertGradients(in -> LightConv.apply(in[0], in[1], null, LightConv.Options.centered(3)), x, w);
    }

    @Test
    void backwardComputesOnlyTheRequestedGradients() {
        Tensor x = f64(150, 2, 5, 4);
        Tensor w = f64(151, 2, 3);
        Tensor dy = f64(152, 2, 5, 4);
        LightConvKernels k = LightConv.KERNELS.select(x);
        Tensor[] onlyW = k.backward(dy, x, w, true, LightConv.Options.centered(3), new boolean[] {false, true, false});
        assertNull(onlyW[0]);
        assertNotNull(onlyW[1]);
        assertNull(onlyW[2]);
        Tensor[] onlyX = k.backward(dy, x, w, true, LightConv.Options.centered(3), new boolean[] {true, false, false});
        assertNotNull(onlyX[0]);
        assertNull(onlyX[1]);
        assertNull(onlyX[2]);
    }

    @Test
    void backwardThroughTheGraphAccumulatesIntoLeaves() {
        Tensor x = f64(160, 2, 5, 4).requiresGrad(true);
        Tensor w = f64(161, 2, 3).requiresGrad(true);
        Tensor bias = f64(162, 4).requiresGrad(true);
        Tensor y = LightConv.apply(x, w, bias, LightConv.Options.centered(3));
        y.backward(Tensor.wrap(new double[2 * 5 * 4], 2, 5, 4).to(DType.F64));
        assertArrayEquals(new double[40], x.grad().toDoubleArray(), 0.0);
        // dbias = sum of dy over (b,t): all ones gives B*T per channel.
        double[] ones = new double[40];
        java.util.Arrays.fill(ones, 1);
        bias.zeroGrad();
        LightConv.apply(x, w, bias, LightConv.Options.centered(3)).backward(Tensor.wrap(ones, 2, 5, 4));
        assertArrayEquals(new double[] {10, 10, 10, 10}, bias.grad().toDoubleArray(), 1e-12);
    }

    // ------------------------------------------------------------------ bad input

    private static void assertRejected(Executable call, String... fragments) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "message '" + e.getMessage() + "' lacks '" + f + "'");
        }
        assertTrue(e.getMessage().startsWith("lightconv"), e.getMessage());
    }

    private final Tensor x = Tensor.randn(1, 2, 5, 4);
    private final Tensor w = Tensor.randn(2, 2, 3);

    @Test
    void rejectsNullX() {
        assertRejected(() -> LightConv.apply(null, w, null, LightConv.Options.centered(3)), "x must not be null");
    }

    @Test
    void rejectsNullWeight() {
        assertRejected(() -> LightConv.apply(x, null, null, LightConv.Options.centered(3)), "weight must not be null");
    }

    @Test
    void rejectsNullOptions() {
        assertRejected(() -> LightConv.apply(x, w, null, null), "options must not be null");
    }

    @Test
    void rejectsNullDropConnect() {
        assertRejected(() -> LightConv.apply(x, w, null, new LightConv.Options(1, true, null)),
                "dropConnect must not be null");
    }

    @Test
    void rejectsXOfWrongRank() {
        assertRejected(() -> LightConv.apply(Tensor.randn(1, 5, 4), w, null, LightConv.Options.centered(3)),
                "x must have rank 3", "[B,T,C]", "got rank 2");
    }

    @Test
    void rejectsWeightOfWrongRank() {
        assertRejected(() -> LightConv.apply(x, Tensor.randn(2, 2, 1, 3), null, LightConv.Options.centered(3)),
                "weight must have rank 2", "[H,K]", "got rank 3");
    }

    @Test
    void rejectsEmptyKernel() {
        assertRejected(() -> LightConv.apply(x, Tensor.zeros(2, 0), null, new LightConv.Options(0, true,
                DropConnect.NONE)), "kernel size K", ">= 1", "K = 0");
    }

    @Test
    void rejectsNegativePadding() {
        assertRejected(() -> LightConv.apply(x, w, null, LightConv.Options.padded(-1)),
                "paddingLeft P", "[0, 2]", "K = 3", "P = -1");
    }

    @Test
    void rejectsPaddingBeyondKernel() {
        assertRejected(() -> LightConv.apply(x, w, null, LightConv.Options.padded(3)),
                "paddingLeft P", "[0, 2]", "K = 3", "P = 3");
    }

    @Test
    void rejectsChannelsNotDivisibleByHeads() {
        assertRejected(() -> LightConv.apply(x, Tensor.randn(3, 3, 3), null, LightConv.Options.centered(3)),
                "C = 4", "H = 3");
    }

    @Test
    void rejectsBiasOfWrongSize() {
        assertRejected(() -> LightConv.apply(x, w, Tensor.randn(4, 5), LightConv.Options.centered(3)),
                "bias", "[4]", "[5]");
    }

    @Test
    void rejectsDtypeMismatch() {
        assertRejected(() -> LightConv.apply(x, w.to(DType.F64), null, LightConv.Options.centered(3)),
                "weight is F64", "x is F32");
    }

    @Test
    void rejectsBiasDtypeMismatch() {
        assertRejected(() -> LightConv.apply(x, w, Tensor.randn(4, 4).to(DType.F64), LightConv.Options.centered(3)),
                "bias is F64", "x is F32");
    }
}
