package org.attnkit.ops.dynamicconv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.attnkit.autograd.GradCheck;
import org.attnkit.random.DropConnect;
import org.attnkit.random.Philox;
import org.attnkit.tensor.DType;
import org.attnkit.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

class DynamicConvTest {

    // ------------------------------------------------------------------ independent formulation

    /**
     * An unfold/einsum formulation written independently of the op: logits by an explicit Linear,
     * the softmax with out-of-range logits set to -infinity when renormalizing, the window
     * win[b,t,c,k] = xpad[b, t+k, c] of the input padded by P zeros before and K-1-P after, the
     * DropConnect keep bits straight from Philox, and y = einsum("btck,bthk->btc") per head.
     */
    private static double[] unfoldReference(double[] x, double[] q, int batch, int time, int channels, int cq,
            double[] w, double[] bias, int heads, int kernelSize, int pad, boolean softmax, boolean renorm,
            DropConnect drop) {
        int rows = heads * kernelSize;
        // logits [B,T,H*K] = q [B,T,Cq] . w^T [Cq,H*K] + bias
        double[][][] logits = new double[batch][time][rows];
        for (int b = 0; b < batch; b++) {
            for (int t = 0; t < time; t++) {
                for (int j = 0; j < rows; j++) {
                    double s = bias == null ? 0 : bias[j];
                    for (int c = 0; c < cq; c++) {
                        s += q[(b * time + t) * cq + c] * w[j * cq + c];
                    }
                    logits[b][t][j] = s;
                }
            }
        }
        // weights [B,T,H,K]
        double[][][][] wk = new double[batch][time][heads][kernelSize];
        for (int b = 0; b < batch; b++) {
            for (int t = 0; t < time; t++) {
                for (int h = 0; h < heads; h++) {
                    double[] row = new double[kernelSize];
                    for (int k = 0; k < kernelSize; k++) {
                        boolean valid = t + k - pad >= 0 && t + k - pad < time;
                        row[k] = renorm && !valid ? Double.NEGATIVE_INFINITY : logits[b][t][h * kernelSize + k];
                    }
                    if (softmax) {
                        double sum = 0;
                        for (double v : row) {
                            sum += Math.exp(v);
                        }
                        for (int k = 0; k < kernelSize; k++) {
                            row[k] = Math.exp(row[k]) / sum;
                        }
                    } else {
                        for (int k = 0; k < kernelSize; k++) {
                            row[k] = row[k] == Double.NEGATIVE_INFINITY ? 0 : row[k];
                        }
                    }
                    for (int k = 0; k < kernelSize; k++) {
                        double keep = 1;
                        if (drop.p() > 0) {
                            long index = drop.scope() == DropConnect.Scope.HEAD_KERNEL
                                    ? (long) h * kernelSize + k
                                    : (((long) b * time + t) * heads + h) * kernelSize + k;
                            keep = Philox.keep(drop.seed(), drop.offset(), index, drop.p()) ? 1 / (1 - drop.p()) : 0;
                        }
                        wk[b][t][h][k] = row[k] * keep;
                    }
                }
            }
        }
        // xpad [B, T+K-1, C]
        int padded = time + kernelSize - 1;
        double[][][] xpad = new double[batch][padded][channels];
        for (int b = 0; b < batch; b++) {
            for (int t = 0; t < time; t++) {
                for (int c = 0; c < channels; c++) {
                    xpad[b][t + pad][c] = x[(b * time + t) * channels + c];
                }
            }
        }
        int perHead = channels / heads;
        double[] y = new double[batch * time * channels];
        for (int b = 0; b < batch; b++) {
            for (int t = 0; t < time; t++) {
                for (int c = 0; c < channels; c++) {
                    double s = 0;
                    for (int k = 0; k < kernelSize; k++) {
                        s += xpad[b][t + k][c] * wk[b][t][c / perHead][k];
                    }
                    y[(b * time + t) * channels + c] = s;
                }
            }
        }
        return y;
    }

    private static Tensor f64(long seed, double scale, int... shape) {
        double[] v = Tensor.randn(seed, shape).toDoubleArray();
        for (int i = 0; i < v.length; i++) {
            v[i] *= scale;
        }
        return Tensor.wrap(v, shape);
    }

    private static void assertClose(double[] expected, double[] actual, double atol, double rtol, String what) {
        assertEquals(expected.length, actual.length, what + ": length");
        for (int i = 0; i < expected.length; i++) {
            double tol = atol + rtol * Math.abs(expected[i]);
            assertTrue(Math.abs(expected[i] - actual[i]) <= tol,
                    what + ": element " + i + " expected " + expected[i] + " got " + actual[i]);
        }
    }

    private static void checkAgainstUnfold(int batch, int time, int heads, int perHead, int kernelSize, int pad,
            int queryChannels, boolean softmax, boolean renorm, boolean withBias, DropConnect drop, long seed) {
        int channels = heads * perHead;
        int cq = queryChannels > 0 ? queryChannels : channels;
        Tensor x = f64(seed, 1, batch, time, channels);
        Tensor query = queryChannels > 0 ? f64(seed + 1, 1, batch, time, cq) : null;
        Tensor w = f64(seed + 2, 1 / Math.sqrt(cq), heads * kernelSize, cq);
        Tensor bias = withBias ? f64(seed + 3, 0.5, heads * kernelSize) : null;
        DynamicConv.Options opt = new DynamicConv.Options(pad, softmax, renorm, drop);
        double[] y = DynamicConv.apply(x, query, w, bias, heads, opt).toDoubleArray();
        double[] xv = x.toDoubleArray();
        double[] expected = unfoldReference(xv, query == null ? xv : query.toDoubleArray(), batch, time, channels,
                cq, w.toDoubleArray(), bias == null ? null : bias.toDoubleArray(), heads, kernelSize, pad, softmax,
                renorm, drop);
        String what = String.format("B=%d T=%d H=%d R=%d K=%d P=%d Cq=%d softmax=%b renorm=%b bias=%b drop=%s",
                batch, time, heads, perHead, kernelSize, pad, queryChannels, softmax, renorm, withBias, drop);
        // Double sums of a few O(1) terms in different orders (and the op subtracts the softmax max).
        assertClose(expected, y, 1e-12, 1e-11, what);
    }

    // ------------------------------------------------------------------ forward

    @Test
    void forwardMatchesUnfoldEinsumOnSeededRandomShapes() {
        SplittableRandom rnd = new SplittableRandom(777);
        for (int i = 0; i < 80; i++) {
            int kernelSize = 1 + rnd.nextInt(7);
            checkAgainstUnfold(1 + rnd.nextInt(3), 1 + rnd.nextInt(9), 1 + rnd.nextInt(3), 1 + rnd.nextInt(3),
                    kernelSize, rnd.nextInt(kernelSize), rnd.nextBoolean() ? 0 : 1 + rnd.nextInt(4),
                    rnd.nextBoolean(), rnd.nextBoolean(), rnd.nextBoolean(), DropConnect.NONE, 2000 + i);
        }
    }

    @Test
    void forwardMatchesUnfoldEinsumOnAwkwardShapes() {
        for (boolean softmax : new boolean[] {true, false}) {
            for (boolean renorm : new boolean[] {false, true}) {
                checkAgainstUnfold(2, 3, 2, 2, 7, 3, 0, softmax, renorm, true, DropConnect.NONE, 1); // T < K centered
                checkAgainstUnfold(2, 3, 2, 2, 7, 6, 3, softmax, renorm, false, DropConnect.NONE, 2); // T < K causal
                checkAgainstUnfold(2, 2, 2, 1, 5, 1, 0, softmax, renorm, true, DropConnect.NONE, 3); // T < K, any P
                checkAgainstUnfold(3, 6, 1, 4, 3, 1, 2, softmax, renorm, true, DropConnect.NONE, 4); // H = 1
                checkAgainstUnfold(2, 6, 4, 1, 3, 2, 0, softmax, renorm, false, DropConnect.NONE, 5); // R = 1
                checkAgainstUnfold(2, 6, 2, 3, 1, 0, 5, softmax, renorm, true, DropConnect.NONE, 6); // K = 1
                checkAgainstUnfold(2, 8, 2, 2, 4, 0, 0, softmax, renorm, true, DropConnect.NONE, 7); // even K, P = 0
                checkAgainstUnfold(2, 8, 2, 2, 6, 4, 3, softmax, renorm, false, DropConnect.NONE, 8); // even K, P = 4
                checkAgainstUnfold(1, 1, 1, 1, 3, 2, 0, softmax, renorm, true, DropConnect.NONE, 9); // T = 1
            }
        }
    }

    @Test
    void forwardInFloat32MatchesTheDoubleDefinition() {
        Tensor x = Tensor.randn(31, 2, 11, 8);
        Tensor w = Tensor.randn(32, 4 * 5, 8);
        Tensor bias = Tensor.randn(33, 20);
        Tensor y = DynamicConv.apply(x, null, w, bias, 4, DynamicConv.Options.padded(1));
        assertEquals(DType.F32, y.dtype());
        double[] xv = x.toDoubleArray();
        double[] expected = unfoldReference(xv, xv, 2, 11, 8, 8, w.toDoubleArray(), bias.toDoubleArray(), 4, 5, 1,
                true, false, DropConnect.NONE);
        // float32 rounding of the output only: the reference accumulates in double.
        assertClose(expected, y.toDoubleArray(), 1e-6, 1e-6, "f32");
    }

    @Test
    void softmaxCoversAllTapsUnlessRenormPadding() {
        // With x = 1 everywhere y[t] = sum of the in-range weights: 1 everywhere with renormPadding,
        // below 1 at the edges without it (the out-of-range taps keep their softmax share).
        int time = 6;
        int kernelSize = 5;
        double[] ones = new double[time * 2];
        Arrays.fill(ones, 1);
        Tensor x = Tensor.wrap(ones, 1, time, 2);
        Tensor w = f64(90, 0.5, kernelSize, 2);
        Tensor bias = f64(91, 1, kernelSize);
        DynamicConv.Options centered = DynamicConv.Options.centered(kernelSize);
        double[] all = DynamicConv.apply(x, null, w, bias, 1, centered).toDoubleArray();
        double[] renorm = DynamicConv.apply(x, null, w, bias, 1, centered.withRenormPadding(true)).toDoubleArray();
        for (int i = 0; i < renorm.length; i++) {
            assertEquals(1.0, renorm[i], 1e-12, "renormalized weights sum to 1 over the valid taps");
        }
        assertEquals(1.0, all[2 * 2], 1e-12, "t = 2 has all taps in range");
        assertTrue(all[0] < 1 - 1e-6, "t = 0 loses the share of its two out-of-range taps");
        assertTrue(all[(time - 1) * 2] < 1 - 1e-6, "t = T-1 loses the share of its two out-of-range taps");
    }

    @Test
    void nullQueryIsTheSameAsPassingX() {
        Tensor x = f64(95, 1, 2, 7, 6);
        Tensor w = f64(96, 0.4, 3 * 4, 6);
        DynamicConv.Options opt = DynamicConv.Options.padded(2);
        assertArrayEquals(DynamicConv.apply(x, null, w, null, 3, opt).toDoubleArray(),
                DynamicConv.apply(x, x, w, null, 3, opt).toDoubleArray(), 0.0);
    }

    @Test
    void generatorGradientReachesXWhenXGeneratesTheKernels() {
        // dx with query = null must equal dx + dquery of the same call with a separate copy as query.
        Tensor w = f64(97, 0.4, 2 * 3, 4);
        Tensor b = f64(98, 0.3, 2 * 3);
        double[] dy = f64(99, 1, 2, 5, 4).toDoubleArray();
        DynamicConv.Options opt = DynamicConv.Options.centered(3);
        Tensor x1 = f64(100, 1, 2, 5, 4).requiresGrad(true);
        DynamicConv.apply(x1, null, w, b, 2, opt).backward(Tensor.wrap(dy.clone(), 2, 5, 4));
        Tensor x2 = x1.detach().copy().requiresGrad(true);
        Tensor q2 = x1.detach().copy().requiresGrad(true);
        DynamicConv.apply(x2, q2, w, b, 2, opt).backward(Tensor.wrap(dy.clone(), 2, 5, 4));
        double[] sum = x2.grad().toDoubleArray();
        double[] dq = q2.grad().toDoubleArray();
        for (int i = 0; i < sum.length; i++) {
            sum[i] += dq[i];
        }
        assertClose(sum, x1.grad().toDoubleArray(), 1e-13, 1e-12, "dx(query=null) vs dx + dquery");
        assertFalse(Arrays.equals(x1.grad().toDoubleArray(), x2.grad().toDoubleArray()),
                "the generator part must not be zero");
    }

    // ------------------------------------------------------------------ DropConnect

    @Test
    void dropConnectDropsExactlyThePhiloxEntriesForBothScopes() {
        for (DropConnect.Scope scope : DropConnect.Scope.values()) {
            DropConnect drop = new DropConnect(0.3, 77, 5, scope);
            checkAgainstUnfold(2, 7, 2, 3, 5, 2, 0, true, false, true, drop, 50);
            checkAgainstUnfold(2, 4, 3, 1, 6, 4, 3, true, true, false, drop, 51);
            checkAgainstUnfold(3, 5, 2, 2, 3, 0, 0, false, false, true, drop, 52);
        }
    }

    @Test
    void dropConnectWithZeroProbabilityIsNoDropConnect() {
        Tensor x = f64(60, 1, 2, 7, 6);
        Tensor w = f64(61, 0.4, 3 * 5, 6);
        for (DropConnect.Scope scope : DropConnect.Scope.values()) {
            DynamicConv.Options plain = DynamicConv.Options.centered(5);
            DynamicConv.Options zero = plain.withDropConnect(new DropConnect(0, 123, 9, scope));
            assertArrayEquals(DynamicConv.apply(x, null, w, null, 3, plain).toDoubleArray(),
                    DynamicConv.apply(x, null, w, null, 3, zero).toDoubleArray(), 0.0);
        }
    }

    @Test
    void headKernelMaskIsSharedOverBatchAndTimeWhilePositionMaskIsNot() {
        // A zero generator weight makes every (b,t) generate the same kernel (softmax of the bias); on
        // a constant input, one H x K mask then gives the same output at every interior step of every
        // batch row, while a per-position mask does not.
        int time = 12;
        int kernelSize = 5;
        double[] ones = new double[2 * time];
        Arrays.fill(ones, 1);
        Tensor x = Tensor.wrap(ones, 2, time, 1);
        Tensor w = Tensor.wrap(new double[kernelSize], kernelSize, 1);
        Tensor bias = f64(70, 1, kernelSize);
        for (DropConnect.Scope scope : DropConnect.Scope.values()) {
            DynamicConv.Options opt = DynamicConv.Options.centered(kernelSize)
                    .withDropConnect(new DropConnect(0.5, 2024, 0, scope));
            double[] y = DynamicConv.apply(x, null, w, bias, 1, opt).toDoubleArray();
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

    // ------------------------------------------------------------------ gradients

    private static void gradCheck(int batch, int time, int heads, int perHead, int kernelSize, int queryChannels,
            boolean withBias, DynamicConv.Options opt, long seed) {
        int channels = heads * perHead;
        int cq = queryChannels > 0 ? queryChannels : channels;
        Tensor x = f64(seed, 1, batch, time, channels).requiresGrad(true);
        Tensor query = queryChannels > 0 ? f64(seed + 1, 1, batch, time, cq).requiresGrad(true) : null;
        Tensor w = f64(seed + 2, 0.6, heads * kernelSize, cq).requiresGrad(true);
        Tensor bias = withBias ? f64(seed + 3, 0.5, heads * kernelSize).requiresGrad(true) : null;
        GradCheck.assertGradients(in -> DynamicConv.apply(in[0], in[1], in[2], in[3], heads, opt), x, query, w, bias);
    }

    @Test
    void gradientsMatchFiniteDifferencesForEveryOptionCombination() {
        long seed = 300;
        for (boolean softmax : new boolean[] {true, false}) {
            for (boolean renorm : new boolean[] {false, true}) {
                for (int queryChannels : new int[] {0, 3}) {
                    for (boolean withBias : new boolean[] {true, false}) {
                        DynamicConv.Options opt = new DynamicConv.Options(1, softmax, renorm, DropConnect.NONE);
                        gradCheck(2, 4, 2, 2, 3, queryChannels, withBias, opt, seed++);
                    }
                }
            }
        }
    }

    @Test
    void gradientsMatchFiniteDifferencesForAwkwardShapes() {
        gradCheck(1, 3, 1, 2, 6, 0, true, DynamicConv.Options.padded(4).withRenormPadding(true), 400); // T < K
        gradCheck(2, 3, 2, 1, 4, 2, true, DynamicConv.Options.padded(0), 401); // even K, P = 0, R = 1
        gradCheck(2, 3, 2, 2, 1, 0, true, DynamicConv.Options.padded(0), 402); // K = 1
        gradCheck(2, 4, 1, 3, 3, 0, false, DynamicConv.Options.causal(3), 403); // H = 1, causal
    }

    @Test
    void gradientsMatchFiniteDifferencesWithDropConnectBothScopes() {
        for (DropConnect.Scope scope : DropConnect.Scope.values()) {
            DropConnect drop = new DropConnect(0.3, 4242, 3, scope);
            gradCheck(2, 4, 2, 2, 3, 0, true, DynamicConv.Options.centered(3).withDropConnect(drop), 500);
            gradCheck(2, 4, 2, 1, 4, 3, true,
                    DynamicConv.Options.padded(2).withRenormPadding(true).withDropConnect(drop), 501);
            gradCheck(2, 3, 2, 2, 3, 0, false,
                    DynamicConv.Options.causal(3).withWeightSoftmax(false).withDropConnect(drop), 502);
        }
    }

    @Test
    void backwardComputesOnlyTheRequestedGradients() {
        Tensor x = f64(150, 1, 2, 5, 4);
        Tensor q = f64(151, 1, 2, 5, 3);
        Tensor w = f64(152, 0.5, 2 * 3, 3);
        Tensor b = f64(153, 0.5, 2 * 3);
        Tensor dy = f64(154, 1, 2, 5, 4);
        DynamicConv.Options opt = DynamicConv.Options.centered(3);
        DynamicConvKernels k = DynamicConv.KERNELS.select(x);
        for (int i = 0; i < 4; i++) {
            boolean[] needs = new boolean[4];
            needs[i] = true;
            Tensor[] grads = k.backward(dy, x, q, w, b, 2, opt, needs);
            for (int j = 0; j < 4; j++) {
                if (j == i) {
                    assertNotNull(grads[j], "gradient " + j + " was requested");
                } else {
                    assertNull(grads[j], "gradient " + j + " was not requested");
                }
            }
        }
    }

    // ------------------------------------------------------------------ bad input

    private static void assertRejected(Executable call, String... fragments) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "message '" + e.getMessage() + "' lacks '" + f + "'");
        }
        assertTrue(e.getMessage().startsWith("dynamicconv"), e.getMessage());
    }

    private final Tensor x = Tensor.randn(1, 2, 5, 4);
    private final Tensor w = Tensor.randn(2, 2 * 3, 4); // H = 2, K = 3, Cq = C = 4
    private final DynamicConv.Options centered = DynamicConv.Options.centered(3);

    @Test
    void rejectsNullX() {
        assertRejected(() -> DynamicConv.apply(null, null, w, null, 2, centered), "x must not be null");
    }

    @Test
    void rejectsNullWeight() {
        assertRejected(() -> DynamicConv.apply(x, null, null, null, 2, centered), "weight must not be null");
    }

    @Test
    void rejectsNullOptions() {
        assertRejected(() -> DynamicConv.apply(x, null, w, null, 2, null), "options must not be null");
    }

    @Test
    void rejectsNullDropConnect() {
        assertRejected(() -> DynamicConv.apply(x, null, w, null, 2, new DynamicConv.Options(1, true, false, null)),
                "dropConnect must not be null");
    }

    @Test
    void rejectsXOfWrongRank() {
        assertRejected(() -> DynamicConv.apply(Tensor.randn(1, 5, 4), null, w, null, 2, centered),
                "x must have rank 3", "got rank 2");
    }

    @Test
    void rejectsWeightOfWrongRank() {
        assertRejected(() -> DynamicConv.apply(x, null, Tensor.randn(2, 2, 3, 4), null, 2, centered),
                "weight must have rank 2", "[H*K,Cq]", "got rank 3");
    }

    @Test
    void rejectsQueryOfWrongRank() {
        assertRejected(() -> DynamicConv.apply(x, Tensor.randn(3, 10, 4), w, null, 2, centered),
                "query must have rank 3", "got rank 2");
    }

    @Test
    void rejectsNonPositiveHeads() {
        assertRejected(() -> DynamicConv.apply(x, null, w, null, 0, centered), "heads must be >= 1", "got 0");
        assertRejected(() -> DynamicConv.apply(x, null, w, null, -2, centered), "heads must be >= 1", "got -2");
    }

    @Test
    void rejectsWeightRowsNotDivisibleByHeads() {
        assertRejected(() -> DynamicConv.apply(x, null, Tensor.randn(2, 7, 4), null, 2, centered),
                "weight rows", "= 7", "heads H = 2");
    }

    @Test
    void rejectsEmptyKernel() {
        assertRejected(() -> DynamicConv.apply(x, null, Tensor.zeros(0, 4), null, 2,
                new DynamicConv.Options(0, true, false, DropConnect.NONE)), "kernel size K", ">= 1", "K = 0");
    }

    @Test
    void rejectsNegativePadding() {
        assertRejected(() -> DynamicConv.apply(x, null, w, null, 2, DynamicConv.Options.padded(-1)),
                "paddingLeft P", "[0, 2]", "K = 3", "P = -1");
    }

    @Test
    void rejectsPaddingBeyondKernel() {
        assertRejected(() -> DynamicConv.apply(x, null, w, null, 2, DynamicConv.Options.padded(3)),
                "paddingLeft P", "[0, 2]", "K = 3", "P = 3");
    }

    @Test
    void rejectsChannelsNotDivisibleByHeads() {
        Tensor w3 = Tensor.randn(3, 3 * 3, 4);
        assertRejected(() -> DynamicConv.apply(x, null, w3, null, 3, centered), "C = 4", "H = 3");
    }

    @Test
    void rejectsQueryBatchMismatch() {
        assertRejected(() -> DynamicConv.apply(x, Tensor.randn(4, 3, 5, 4), w, null, 2, centered),
                "query dimension 0", "must be 2", "batch", "got 3");
    }

    @Test
    void rejectsQueryTimeMismatch() {
        assertRejected(() -> DynamicConv.apply(x, Tensor.randn(4, 2, 6, 4), w, null, 2, centered),
                "query dimension 1", "must be 5", "time", "got 6");
    }

    @Test
    void rejectsWeightColumnsNotMatchingQueryChannels() {
        assertRejected(() -> DynamicConv.apply(x, Tensor.randn(4, 2, 5, 3), w, null, 2, centered),
                "weight dimension 1", "must be 3", "Cq of query", "got 4");
    }

    @Test
    void rejectsWeightColumnsNotMatchingXChannelsWithoutQuery() {
        assertRejected(() -> DynamicConv.apply(x, null, Tensor.randn(5, 6, 3), null, 2, centered),
                "weight dimension 1", "must be 4", "C of x", "got 3");
    }

    @Test
    void rejectsBiasOfWrongSize() {
        assertRejected(() -> DynamicConv.apply(x, null, w, Tensor.randn(4, 5), 2, centered),
                "bias", "[6]", "[5]");
    }

    @Test
    void rejectsDtypeMismatch() {
        assertRejected(() -> DynamicConv.apply(x, null, w.to(DType.F64), null, 2, centered),
                "weight is F64", "x is F32");
    }

    @Test
    void rejectsQueryDtypeMismatch() {
        assertRejected(() -> DynamicConv.apply(x, Tensor.randn(4, 2, 5, 4).to(DType.F64), w, null, 2, centered),
                "query is F64", "x is F32");
    }
}
