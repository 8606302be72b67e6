package org.attnkit.ops.matmul;

import org.attnkit.tensor.CpuScope;
import org.attnkit.tensor.Tensor;

/**
 * The SIMD backend of {@link MatMul} (float32): every product is one batched {@link Gemm} call,
 * the transposes of the backward pass expressed as Gemm's transA/transB flags rather than copies.
 * Results are the same bits whatever the number of threads (see {@link Gemm}).
 */
final class MatMulSimdKernels implements MatMulKernels {
    @Override
    public Tensor forward(Tensor a, Tensor b) {
        int m = a.dim(-2);
        int k = a.dim(-1);
        int n = b.dim(-1);
        int batch = batchCount(a);
        float[] c = CpuScope.outputArray(batch * m * n); // [batch, m, n], overwritten by the GEMM
        // c = a b: a [m, k], b [k, n].
        Gemm.gemmBatched(batch, false, false, m, n, k, a.data(), 0, Math.max(1, k), m * k,
                b.data(), 0, Math.max(1, n), k * n, c, 0, Math.max(1, n), m * n, false);
        int[] shape = a.shape().toArray();
        shape[shape.length - 1] = n;
        return Tensor.wrap(c, shape);
    }

    @Override
    public Tensor[] backward(Tensor a, Tensor b, Tensor dc, boolean[] needsGrad) {
        int m = a.dim(-2);
        int k = a.dim(-1);
        int n = b.dim(-1);
        int batch = batchCount(a);
        float[] g = dc.data(); // [batch, m, n]
        Tensor da = null;
        Tensor db = null;
        if (needsGrad[0]) {
            float[] d = CpuScope.outputArray(batch * m * k); // [batch, m, k] = dc [m, n] (b [k, n])^T
            Gemm.gemmBatched(batch, false, true, m, k, n, g, 0, Math.max(1, n), m * n,
                    b.data(), 0, Math.max(1, n), k * n, d, 0, Math.max(1, k), m * k, false);
            da = Tensor.wrap(d, a.shape().toArray());
        }
        if (needsGrad[1]) {
            float[] d = CpuScope.outputArray(batch * k * n); // [batch, k, n] = (a [m, k])^T dc [m, n]
            Gemm.gemmBatched(batch, true, false, k, n, m, a.data(), 0, Math.max(1, k), m * k,
                    g, 0, Math.max(1, n), m * n, d, 0, Math.max(1, n), k * n, false);
            db = Tensor.wrap(d, b.shape().toArray());
        }
        return new Tensor[] {da, db};
    }

    /** Product of the leading (batch) dims; 1 for a plain matrix. */
    private static int batchCount(Tensor a) {
        int batch = 1;
        for (int d = 0; d < a.rank() - 2; d++) {
            batch *= a.dim(d);
        }
        return batch;
    }
}
