package org.attnkit.ops.linear;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.attnkit.ops.matmul.Gemm;
import org.attnkit.tensor.CpuScope;
import org.attnkit.tensor.Tensor;

/**
 * The SIMD backend of {@link Linear} (float32): x is viewed as [rows, in] and every product is one
 * {@link Gemm} call with W's transposes as flags ({@code y = x W^T}, {@code dx = dy W},
 * {@code dW = dy^T x}); the bias is written into y first and the product accumulated onto it.
 * Results are the same bits whatever the number of threads.
 */
final class LinearSimdKernels implements LinearKernels {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    /** Rows summed in float before the partial column sums of db are added in double. */
    private static final int BIAS_ROWS = 256;

    @Override
    public Tensor forward(Tensor x, Tensor weight, Tensor bias) {
        int in = weight.dim(1);
        int out = weight.dim(0);
        int rows = leadingPositions(x);
        float[] y = CpuScope.outputArray(rows * out); // [rows, out]: bias rows or an overwriting GEMM
        if (bias != null) {
            float[] b = bias.data();
            for (int r = 0; r < rows; r++) {
                System.arraycopy(b, 0, y, r * out, out);
            }
        }
        // y [rows, out] (+)= x [rows, in] (W [out, in])^T
        Gemm.gemm(false, true, rows, out, in, x.data(), 0, Math.max(1, in), weight.data(), 0, Math.max(1, in),
                y, 0, Math.max(1, out), bias != null);
        int[] shape = x.shape().toArray();
        shape[shape.length - 1] = out;
        return Tensor.wrap(y, shape);
    }

    @Override
    public Tensor[] backward(Tensor x, Tensor weight, Tensor dy, boolean[] needsGrad) {
        int in = weight.dim(1);
        int out = weight.dim(0);
        int rows = leadingPositions(x);
        float[] g = dy.data(); // [rows, out]
        Tensor dx = null;
        Tensor dw = null;
        Tensor db = null;
        if (needsGrad[0]) {
            float[] d = CpuScope.outputArray(rows * in); // [rows, in] = dy [rows, out] W [out, in]
            Gemm.gemm(false, false, rows, in, out, g, 0, Math.max(1, out), weight.data(), 0, Math.max(1, in),
                    d, 0, Math.max(1, in), false);
            dx = Tensor.wrap(d, x.shape().toArray());
        }
        if (needsGrad[1]) {
            float[] d = CpuScope.outputArray(out * in); // [out, in] = (dy [rows, out])^T x [rows, in]
            Gemm.gemm(true, false, out, in, rows, g, 0, Math.max(1, out), x.data(), 0, Math.max(1, in),
                    d, 0, Math.max(1, in), false);
            dw = Tensor.wrap(d, out, in);
        }
        if (needsGrad.length > 2 && needsGrad[2]) {
            db = Tensor.wrap(columnSums(g, rows, out), out);
        }
        return new Tensor[] {dx, dw, db};
    }

    /**
     * Column sums of g [rows, cols]: vector float sums over blocks of {@link #BIAS_ROWS} rows, the
     * blocks added in double in order, so the error grows with the block, not with rows.
     */
    static float[] columnSums(float[] g, int rows, int cols) {
        double[] total = new double[cols];
        float[] part = new float[cols];
        int bound = S.loopBound(cols);
        for (int r0 = 0; r0 < rows; r0 += BIAS_ROWS) {
            int r1 = Math.min(rows, r0 + BIAS_ROWS);
            int c = 0;
            for (; c < bound; c += S.length()) {
                FloatVector s = FloatVector.zero(S);
                for (int r = r0; r < r1; r++) {
                    s = s.add(FloatVector.fromArray(S, g, r * cols + c));
                }
                s.intoArray(part, c);
            }
            for (; c < cols; c++) {
                float s = 0f;
                for (int r = r0; r < r1; r++) {
                    s += g[r * cols + c];
                }
                part[c] = s;
            }
            for (int j = 0; j < cols; j++) {
                total[j] += part[j];
            }
        }
        float[] out = new float[cols];
        for (int j = 0; j < cols; j++) {
            out[j] = (float) total[j];
        }
        return out;
    }

    /** Product of all dims but the last (not numel / in, which fails when in or out is 0). */
    private static int leadingPositions(Tensor x) {
        int rows = 1;
        for (int d = 0; d < x.rank() - 1; d++) {
            rows *= x.dim(d);
        }
        return rows;
    }
}
