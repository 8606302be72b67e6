package org.attnkit.ops.matmul;

import static org.attnkit.backend.cuda.CudaTensors.address;

import org.attnkit.backend.cuda.AttnkitNative;
import org.attnkit.backend.cuda.Cuda;
import org.attnkit.backend.cuda.CudaTensors;
import org.attnkit.backend.cuda.NativeCalls;
import org.attnkit.tensor.Tensor;

/**
 * {@link MatMul} on the project's GEMMs ({@code attnkit_gemm_ex}, batched over the leading dims) at
 * {@link Cuda#gemmPrecision()} (fp32 SIMT, TF32 or BF16 tensor cores; forward and backward):
 * {@code c = a b}, {@code da = dc b^T}, {@code db = a^T dc}, the transposes read in place by the kernel.
 * The native library is touched only after {@link Cuda#requireAvailable} passed. Compiled; NOT yet
 * run on a GPU.
 */
final class MatMulCuda implements MatMulKernels {
    private static final String OP = "matmul";

    @Override
    public Tensor forward(Tensor a, Tensor b) {
        Cuda.requireAvailable(OP + " forward");
        int m = a.dim(-2);
        int k = a.dim(-1);
        int n = b.dim(-1);
        int[] shape = a.shape().toArray();
        shape[shape.length - 1] = n;
        Tensor c = CudaTensors.empty(a.device(), shape);
        gemm(OP + " forward", c, a, b, batch(a), m, n, k, false, false);
        return c;
    }

    @Override
    public Tensor[] backward(Tensor a, Tensor b, Tensor dc, boolean[] needsGrad) {
        Cuda.requireAvailable(OP + " backward");
        int m = a.dim(-2);
        int k = a.dim(-1);
        int n = b.dim(-1);
        int batch = batch(a);
        Tensor[] grads = new Tensor[2];
        if (needsGrad[0]) {
            // da[M,K] = dc[M,N] b[K,N]^T
            grads[0] = CudaTensors.empty(a.device(), a.shape().toArray());
            gemm(OP + " backward", grads[0], dc, b, batch, m, k, n, false, true);
        }
        if (needsGrad[1]) {
            // db[K,N] = a[M,K]^T dc[M,N]
            grads[1] = CudaTensors.empty(b.device(), b.shape().toArray());
            gemm(OP + " backward", grads[1], a, dc, batch, k, n, m, true, false);
        }
        return grads;
    }

    private static int batch(Tensor a) {
        int batch = 1;
        for (int i = 0; i < a.rank() - 2; i++) {
            batch = Math.multiplyExact(batch, a.dim(i));
        }
        return batch;
    }

    private static void gemm(String what, Tensor c, Tensor a, Tensor w, int batch, int m, int n, int k,
            boolean transA, boolean transW) {
        if (c.numel() == 0) {
            return;
        }
        if (batch > 65535) {
            throw new UnsupportedOperationException(what + ": CUDA matmul runs at most 65535 batch matrices per call,"
                    + " got batch = " + batch + " (reshape into fewer, larger products)");
        }
        CudaTensors.enter(c.device());
        NativeCalls.check(what, AttnkitNative.attnkit_gemm_ex(address(c, "c"), 0, k == 0 ? 0 : address(a, "a"),
                k == 0 ? 0 : address(w, "b"), 0, batch, m, n, k, transA ? 1 : 0, transW ? 1 : 0, 0,
                Cuda.gemmPrecision().code(), AttnkitNative.EPILOGUE_NONE));
    }
}
