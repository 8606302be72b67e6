package org.attnkit.ops.layernorm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.attnkit.autograd.GradCheck;
import org.attnkit.backend.Backend;
import org.attnkit.ops.arith.Add;
import org.attnkit.ops.arith.Mul;
import org.attnkit.ops.dropout.Dropout;
import org.attnkit.ops.reduce.Sum;
import org.attnkit.random.Philox;
import org.attnkit.tensor.DType;
import org.attnkit.tensor.Tensor;
import org.attnkit.testing.Compare;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class ResidualLayerNormTest {
    /** The outputs and every gradient of one run, through either the fused op or the three separate ops. */
    private record Run(float[] sum, float[] y, float[] dx, float[] dres, float[] dgamma, float[] dbeta) {
    }

    /**
     * Loss = sum(normalized * w) + sum(sum * u): both outputs feed it, as in a Pre-LN block (the residual
     * stream continues with sum, the next sub-block reads normalized).
     */
    private static Run run(boolean fused, int[] shape, double p, boolean affine, long seed) {
        int d = shape[shape.length - 1];
        Tensor x = Tensor.randn(seed, shape).requiresGrad(true);
        Tensor res = Tensor.randn(seed + 1, shape).requiresGrad(true);
        Tensor gamma = affine ? Tensor.randn(seed + 2, d).requiresGrad(true) : null;
        Tensor beta = affine ? Tensor.randn(seed + 3, d).requiresGrad(true) : null;
        Tensor w = Tensor.randn(seed + 4, shape);
        Tensor u = Tensor.randn(seed + 5, shape);
        Tensor sum;
        Tensor y;
        if (fused) {
            ResidualLayerNorm.Result r = ResidualLayerNorm.apply(x, res, p, 7, 3, gamma, beta, 1e-5);
            sum = r.sum();
            y = r.normalized();
        } else {
            sum = Add.apply(res, Dropout.apply(x, p, 7, 3));
            y = LayerNorm.apply(sum, gamma, beta, 1e-5);
        }
        Add.apply(Sum.apply(Mul.apply(y, w)), Sum.apply(Mul.apply(sum, u))).backward();
        return new Run(sum.toArray(), y.toArray(), x.grad().toArray(), res.grad().toArray(),
                affine ? gamma.grad().toArray() : null, affine ? beta.grad().toArray() : null);
    }

    @ParameterizedTest(name = "{0} shape [{1},{2},{3}] p={4} affine={5}")
    @CsvSource({"REF,2,3,8,0.0,true", "REF,2,5,7,0.3,true", "REF,1,1,1,0.5,false", "REF,3,4,33,0.1,false",
        "SIMD,2,3,8,0.0,true", "SIMD,2,5,70,0.3,true", "SIMD,4,9,16,0.5,false", "SIMD,1,2,129,0.2,true"})
    void equalsDropoutAddAndLayerNormBitForBit(Backend backend, int b, int t, int d, double p, boolean affine) {
        int[] shape = {b, t, d};
        Run fused = Compare.on(backend, () -> run(true, shape, p, affine, 100 + d));
        Run separate = Compare.on(backend, () -> run(false, shape, p, affine, 100 + d));
        assertArrayEquals(separate.sum(), fused.sum(), "sum");
        assertArrayEquals(separate.y(), fused.y(), "normalized");
        assertArrayEquals(separate.dx(), fused.dx(), "dx");
        assertArrayEquals(separate.dres(), fused.dres(), "dresidual");
        if (affine) {
            assertArrayEquals(separate.dgamma(), fused.dgamma(), "dgamma");
            assertArrayEquals(separate.dbeta(), fused.dbeta(), "dbeta");
        }
    }

    @Test
    void matchesADirectComputationInDouble() {
        int rows = 6;
        int d = 11;
        double p = 0.25;
        long seed = 42;
        long offset = 9;
        double eps = 1e-3;
        Tensor x = Tensor.randn(1, rows, d).to(DType.F64);
        Tensor res = Tensor.randn(2, rows, d).to(DType.F64);
        Tensor gamma = Tensor.randn(3, d).to(DType.F64);
        Tensor beta = Tensor.randn(4, d).to(DType.F64);
        ResidualLayerNorm.Result r = ResidualLayerNorm.apply(x, res, p, seed, offset, gamma, beta, eps);
        double[] xv = x.toDoubleArray();
        double[] rv = res.toDoubleArray();
        double[] s = new double[rows * d];
        int dropped = 0;
        for (int i = 0; i < s.length; i++) {
            boolean keep = Philox.uniform(seed, offset, i) >= p;
            dropped += keep ? 0 : 1;
            s[i] = rv[i] + (keep ? xv[i] / (1 - p) : 0);
        }
        assertTrue(dropped > 0 && dropped < s.length, "the mask drops some but not all elements: " + dropped);
        double[] sum = r.sum().toDoubleArray();
        double[] y = r.normalized().toDoubleArray();
        for (int row = 0; row < rows; row++) {
            double mean = 0;
            for (int j = 0; j < d; j++) {
                mean += s[row * d + j] / d;
            }
            double var = 0;
            for (int j = 0; j < d; j++) {
                var += (s[row * d + j] - mean) * (s[row * d + j] - mean) / d;
            }
            for (int j = 0; j < d; j++) {
                int i = row * d + j;
                assertEquals(s[i], sum[i], 1e-12, "sum " + i);
                double expected = (s[i] - mean) / Math.sqrt(var + eps) * gamma.toDoubleArray()[j] + beta.toDoubleArray()[j];
                assertEquals(expected, y[i], 1e-10, "normalized " + i);
            }
        }
    }

    @ParameterizedTest(name = "p={0} affine={1}")
    @CsvSource({"0.0,true", "0.4,true", "0.4,false"})
    void gradientsMatchFiniteDifferencesInDouble(double p, boolean affine) {
        int[] shape = {2, 3, 5};
        Tensor x = Tensor.randn(11, shape).to(DType.F64).requiresGrad(true);
        Tensor res = Tensor.randn(12, shape).to(DType.F64).requiresGrad(true);
        Tensor gamma = affine ? Tensor.randn(13, 5).to(DType.F64).requiresGrad(true) : null;
        Tensor beta = affine ? Tensor.randn(14, 5).to(DType.F64).requiresGrad(true) : null;
        Tensor u = Tensor.randn(15, shape).to(DType.F64);
        // Both outputs enter: normalized + u * sum, so each node's backward and their accumulation are checked.
        GradCheck.assertGradients(in -> {
            ResidualLayerNorm.Result r = ResidualLayerNorm.apply(in[0], in[1], p, 5, 6, in[2], in[3], 1e-5);
            return Add.apply(r.normalized(), Mul.apply(r.sum(), u));
        }, x, res, gamma, beta);
        // The normalized output alone (Post-LN).
        GradCheck.assertGradients(in -> ResidualLayerNorm.apply(in[0], in[1], p, 5, 6, in[2], in[3], 1e-5).normalized(),
                x, res, gamma, beta);
    }

    @Test
    void onlyTheNeededGradientsAreComputed() {
        Tensor x = Tensor.randn(1, 2, 4).requiresGrad(true);
        Tensor res = Tensor.randn(2, 2, 4);
        Tensor gamma = Tensor.ones(4);
        ResidualLayerNorm.apply(x, res, 0.5, 1, 2, gamma, null).normalized().backward(Tensor.ones(2, 4));
        assertArrayEquals(new int[] {2, 4}, x.grad().shape().toArray());
        assertNull(res.grad());
        assertNull(gamma.grad());
    }

    /** The CUDA kernel's row code (cuda/layernorm_residual.cu, lanes run in turn on the host) against the reference. */
    @ParameterizedTest(name = "rows {0} D {1} p={2} affine={3}")
    @CsvSource({"1,1,0.0,true", "3,5,0.1,true", "4,32,0.5,false", "7,33,0.3,true", "2,100,0.0,false",
        "5,1000,0.1,true", "64,64,0.2,true"})
    void theKernelsRowCodeOnTheHostMatchesTheReference(int rows, int d, double p, boolean affine) {
        org.junit.jupiter.api.Assumptions.assumeTrue(
                org.attnkit.backend.cuda.Cuda.status().nativeLibrary().startsWith("loaded"), "the JNI library was not built");
        Tensor x = Tensor.randn(rows * 7L + d, rows, d);
        Tensor res = Tensor.randn(rows * 7L + d + 1, rows, d);
        Tensor gamma = affine ? Tensor.randn(3, d) : null;
        Tensor beta = affine ? Tensor.randn(4, d) : null;
        ResidualLayerNormKernels.Forward ref = Compare.on(Backend.REF,
                () -> ResidualLayerNorm.KERNELS.select(x).forward(x, res, p, 11, 12, gamma, beta, 1e-5));
        float[] sum = new float[rows * d];
        float[] y = new float[rows * d];
        float[] mean = new float[rows];
        float[] rstd = new float[rows];
        int rc = org.attnkit.backend.cuda.AttnkitNative.attnkit_residual_layernorm_host(sum, y, mean, rstd, x.data(),
                res.data(), affine ? gamma.data() : null, affine ? beta.data() : null, rows, d, 1e-5, p, 11, 12);
        assertEquals(0, rc);
        Compare.close("sum", ref.sum(), Tensor.wrap(sum, rows, d), 1e-7, 1e-6);
        Compare.close("mean", ref.mean(), Tensor.wrap(mean, rows), 1e-6, 1e-5);
        Compare.close("rstd", ref.rstd(), Tensor.wrap(rstd, rows), 1e-6, 1e-5);
        Compare.close("normalized", ref.y(), Tensor.wrap(y, rows, d), 2e-5, 2e-4);
        // The mask is the reference's: exactly the dropped elements of sum equal the residual.
        float[] xv = x.toArray();
        float[] rv = res.toArray();
        for (int i = 0; i < sum.length; i++) {
            boolean kept = Philox.keep(11, 12, i, p);
            assertTrue(kept || sum[i] == rv[i], "element " + i + " dropped but sum != residual");
            assertTrue(!kept || xv[i] == 0 || sum[i] != rv[i] || Math.abs(xv[i]) < 1e-6 * Math.abs(rv[i]),
                    "element " + i + " kept but x did not enter");
        }
    }

    @Test
    void rejectsBadArgumentsNamingThem() {
        Tensor x = Tensor.randn(1, 2, 4);
        Tensor res = Tensor.randn(2, 2, 4);
        assertMessage(() -> ResidualLayerNorm.apply(null, res, 0, 1, 2, null, null), "x");
        assertMessage(() -> ResidualLayerNorm.apply(x, null, 0, 1, 2, null, null), "residual");
        assertMessage(() -> ResidualLayerNorm.apply(x, Tensor.randn(2, 2, 5), 0, 1, 2, null, null),
                "residual must have x's shape [2, 4], got [2, 5]");
        assertMessage(() -> ResidualLayerNorm.apply(Tensor.scalar(1), Tensor.scalar(2), 0, 1, 2, null, null),
                "rank-0");
        assertMessage(() -> ResidualLayerNorm.apply(Tensor.zeros(2, 0), Tensor.zeros(2, 0), 0, 1, 2, null, null),
                "D >= 1");
        assertMessage(() -> ResidualLayerNorm.apply(x, res, 0, 1, 2, Tensor.ones(5), null), "gamma");
        assertMessage(() -> ResidualLayerNorm.apply(x, res, 0, 1, 2, null, Tensor.ones(3)), "beta");
        assertMessage(() -> ResidualLayerNorm.apply(x, res.to(DType.F64), 0, 1, 2, null, null), "residual");
        assertMessage(() -> ResidualLayerNorm.apply(x, res, 1.0, 1, 2, null, null), "1.0");
        assertMessage(() -> ResidualLayerNorm.apply(x, res, -0.1, 1, 2, null, null), "-0.1");
        assertMessage(() -> ResidualLayerNorm.apply(x, res, 0, 1, 2, null, null, 0), "eps must be > 0 and finite, got 0.0");
        assertMessage(() -> ResidualLayerNorm.apply(x, res, 0, 1, 2, null, null, Double.NaN), "NaN");
    }

    private static void assertMessage(Runnable call, String fragment) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call::run);
        assertTrue(e.getMessage().startsWith("residual_layer_norm") && e.getMessage().contains(fragment),
                e.getMessage());
    }
}
