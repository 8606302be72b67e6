package org.attnkit.ops.dynamicconv;

import static org.attnkit.backend.cuda.CudaTensors.address;

import org.attnkit.backend.cuda.AttnkitNative;
import org.attnkit.backend.cuda.Cuda;
import org.attnkit.backend.cuda.CudaTensors;
import org.attnkit.backend.cuda.NativeCalls;
import org.attnkit.random.DropConnect;
import org.attnkit.tensor.Tensor;

/**
 * {@link DynamicConv} on the fused CUDA kernels ({@code cuda/dynamicconv.cu}): the forward never
 * writes the B x T x H x K kernels to global memory. Verified on an H200 (2026-12-04).
 */
final class DynamicConvCuda implements DynamicConvKernels {
    /** The fused block keeps 3 x K floats per time step in shared memory (native/src/attnkit.cpp). */
    static final int MAX_KERNEL_SIZE = 4096;

    @Override
    public Tensor forward(Tensor x, Tensor query, Tensor weight, Tensor bias, int heads, DynamicConv.Options options) {
        int k = checkKernelSize(weight, heads);
        Cuda.requireAvailable(DynamicConv.OP + " forward");
        int b = x.dim(0);
        int t = x.dim(1);
        int c = x.dim(2);
        int cq = query == null ? c : query.dim(2);
        Tensor y = CudaTensors.empty(x.device(), b, t, c);
        DropConnect d = options.dropConnect();
        CudaTensors.enter(x.device());
        NativeCalls.check(DynamicConv.OP + " forward", AttnkitNative.attnkit_dynamicconv_forward(address(y, "y"),
                address(x, "x"), address(query, "query"), address(weight, "weight"), address(bias, "bias"), b, t, c,
                cq, heads, k, options.paddingLeft(), options.weightSoftmax() ? 1 : 0,
                options.renormPadding() ? 1 : 0, d.p(), d.seed(), d.offset(), scope(d)));
        return y;
    }

    @Override
    public Tensor[] backward(Tensor dy, Tensor x, Tensor query, Tensor weight, Tensor bias, int heads,
            DynamicConv.Options options, boolean[] needsGrad) {
        int k = checkKernelSize(weight, heads);
        Cuda.requireAvailable(DynamicConv.OP + " backward");
        int b = x.dim(0);
        int t = x.dim(1);
        int c = x.dim(2);
        int cq = query == null ? c : query.dim(2);
        Tensor[] grads = new Tensor[4];
        if (needsGrad[0]) {
            grads[0] = CudaTensors.empty(x.device(), b, t, c);
        }
        if (query != null && needsGrad[1]) {
            grads[1] = CudaTensors.empty(x.device(), b, t, cq);
        }
        if (needsGrad[2]) {
            grads[2] = CudaTensors.empty(x.device(), weight.dim(0), weight.dim(1));
        }
        if (bias != null && needsGrad[3]) {
            grads[3] = CudaTensors.empty(x.device(), bias.dim(0));
        }
        DropConnect d = options.dropConnect();
        CudaTensors.enter(x.device());
        NativeCalls.check(DynamicConv.OP + " backward", AttnkitNative.attnkit_dynamicconv_backward(
                address(grads[0], "dx"), address(grads[1], "dquery"), address(grads[2], "dweight"),
                address(grads[3], "dbias"), address(dy, "dy"), address(x, "x"), address(query, "query"),
                address(weight, "weight"), address(bias, "bias"), b, t, c, cq, heads, k, options.paddingLeft(),
                options.weightSoftmax() ? 1 : 0, options.renormPadding() ? 1 : 0, d.p(), d.seed(), d.offset(),
                scope(d)));
        return grads;
    }

    /** K, which the fused kernel supports up to {@link #MAX_KERNEL_SIZE}: a clear error past it, never zeros. */
    static int checkKernelSize(Tensor weight, int heads) {
        int k = weight.dim(0) / heads;
        if (k > MAX_KERNEL_SIZE) {
            throw new UnsupportedOperationException(DynamicConv.OP + ": the CUDA backend supports kernel size K <= "
                    + MAX_KERNEL_SIZE + ", got K = " + k + "; use the CPU backends for this K");
        }
        return k;
    }

    private static int scope(DropConnect d) {
        return d.scope() == DropConnect.Scope.POSITION ? 1 : 0;
    }
}
