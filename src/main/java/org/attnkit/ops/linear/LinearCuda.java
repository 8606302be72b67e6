package org.attnkit.ops.linear;

import static org.attnkit.backend.cuda.CudaTensors.address;

import org.attnkit.backend.cuda.AttnkitNative;
import org.attnkit.backend.cuda.Cuda;
import org.attnkit.backend.cuda.CudaTensors;
import org.attnkit.backend.cuda.GemmPrecision;
import org.attnkit.backend.cuda.NativeCalls;
import org.attnkit.tensor.Tensor;

/**
 * {@link Linear} on the project's GEMMs ({@code attnkit_gemm_ex}: fp32 SIMT in {@code cuda/gemm.cu}, TF32/BF16
 * tensor cores in {@code cuda/gemm_mma.cu}, at {@link Cuda#gemmPrecision()}, forward and backward) with the bias
 * added in the GEMM's epilogue: every leading position is one row P of a [P, in] matrix. {@code y = x W^T + b},
 * {@code dx = dy W}, {@code dW = dy^T x} (W^T and dy^T read in place), {@code db} = the deterministic fp32
 * column sum of dy. The native library is touched only after {@link Cuda#requireAvailable} passed.
 * Compiled and verified on an H200 (2026-12-04: the CUDA equivalence tests pass).
 */
final class LinearCuda implements LinearKernels {
    private static final String OP = "linear";

    @Override
    public Tensor forward(Tensor x, Tensor weight, Tensor bias) {
        Cuda.requireAvailable(OP + " forward");
        int out = weight.dim(0);
        int[] shape = x.shape().toArray();
        shape[shape.length - 1] = out;
        Tensor y = CudaTensors.empty(x.device(), shape);
        forwardInto(OP + " forward", y, null, x, weight, bias, AttnkitNative.EPILOGUE_NONE,
                Cuda.gemmPrecision());
        return y;
    }

    /**
     * y (and z, or null) = epilogue(x W^T + b) through {@code attnkit_gemm_ex}; y has out (or out/2 for GLU)
     * columns, z out columns. Shared with {@link LinearEpilogueCuda}.
     */
    static void forwardInto(String what, Tensor y, Tensor z, Tensor x, Tensor weight, Tensor bias, int epilogue,
            GemmPrecision precision) {
        int in = weight.dim(1);
        int out = weight.dim(0);
        int rows = positions(x);
        if ((long) rows * out == 0) {
            return;
        }
        CudaTensors.enter(x.device());
        // y[P,out] = f(x[P,in] W[out,in]^T + b)
        NativeCalls.check(what, AttnkitNative.attnkit_gemm_ex(address(y, "y"), address(z, "z"),
                in == 0 ? 0 : address(x, "x"), in == 0 ? 0 : address(weight, "weight"), address(bias, "bias"),
                1, rows, out, in, 0, 1, 0, precision.code(), epilogue));
    }

    @Override
    public Tensor[] backward(Tensor x, Tensor weight, Tensor dy, boolean[] needsGrad) {
        Cuda.requireAvailable(OP + " backward");
        GemmPrecision precision = Cuda.gemmPrecision();
        int in = weight.dim(1);
        int out = weight.dim(0);
        int rows = positions(x);
        Tensor[] grads = new Tensor[3];
        CudaTensors.enter(x.device());
        if (needsGrad[0]) {
            grads[0] = CudaTensors.empty(x.device(), x.shape().toArray());
            if (grads[0].numel() > 0) {
                // dx[P,in] = dy[P,out] W[out,in]
                NativeCalls.check(OP + " backward", AttnkitNative.attnkit_gemm_ex(address(grads[0], "dx"), 0,
                        out == 0 ? 0 : address(dy, "dy"), out == 0 ? 0 : address(weight, "weight"), 0, 1, rows, in,
                        out, 0, 0, 0, precision.code(), AttnkitNative.EPILOGUE_NONE));
            }
        }
        if (needsGrad[1]) {
            grads[1] = CudaTensors.empty(x.device(), out, in);
            if (grads[1].numel() > 0) {
                // dW[out,in] = dy[P,out]^T x[P,in]
                NativeCalls.check(OP + " backward", AttnkitNative.attnkit_gemm_ex(address(grads[1], "dweight"), 0,
                        rows == 0 ? 0 : address(dy, "dy"), rows == 0 ? 0 : address(x, "x"), 0, 1, out, in, rows,
                        1, 0, 0, precision.code(), AttnkitNative.EPILOGUE_NONE));
            }
        }
        if (needsGrad.length > 2 && needsGrad[2]) {
            grads[2] = CudaTensors.empty(x.device(), out);
            if (out > 0) {
                NativeCalls.check(OP + " backward", AttnkitNative.attnkit_column_sum(address(grads[2], "dbias"),
                        rows == 0 ? 0 : address(dy, "dy"), rows, out));
            }
        }
        return grads;
    }

    static int positions(Tensor x) {
        int rows = 1;
        for (int i = 0; i < x.rank() - 1; i++) {
            rows = Math.multiplyExact(rows, x.dim(i));
        }
        return rows;
    }
}
