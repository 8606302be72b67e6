package org.attnkit.ops.lightconv;

import static org.attnkit.backend.cuda.CudaTensors.address;

import org.attnkit.backend.cuda.AttnkitNative;
import org.attnkit.backend.cuda.Cuda;
import org.attnkit.backend.cuda.CudaTensors;
import org.attnkit.backend.cuda.NativeCalls;
import org.attnkit.random.DropConnect;
import org.attnkit.tensor.Tensor;

/**
 * {@link LightConv} on the project's CUDA kernels ({@code cuda/lightconv.cu}): a thin wrapper over the
 * JavaCPP binding. The native library is touched only after {@link Cuda#requireAvailable} passed, so
 * registering this class costs nothing where CUDA is absent. Verified on an H200 (2026-12-04).
 */
final class LightConvCuda implements LightConvKernels {
    @Override
    public Tensor forward(Tensor x, Tensor weight, Tensor bias, LightConv.Options options) {
        Cuda.requireAvailable(LightConv.OP + " forward");
        int b = x.dim(0);
        int t = x.dim(1);
        int c = x.dim(2);
        Tensor y = CudaTensors.empty(x.device(), b, t, c);
        DropConnect d = options.dropConnect();
        CudaTensors.enter(x.device());
        NativeCalls.check(LightConv.OP + " forward", AttnkitNative.attnkit_lightconv_forward(address(y, "y"),
                address(x, "x"), address(weight, "weight"), address(bias, "bias"), b, t, c, weight.dim(0),
                weight.dim(1), options.paddingLeft(), options.weightSoftmax() ? 1 : 0, d.p(), d.seed(), d.offset(),
                scope(d)));
        return y;
    }

    @Override
    public Tensor[] backward(Tensor dy, Tensor x, Tensor weight, boolean hasBias, LightConv.Options options,
            boolean[] needsGrad) {
        Cuda.requireAvailable(LightConv.OP + " backward");
        int b = x.dim(0);
        int t = x.dim(1);
        int c = x.dim(2);
        Tensor[] grads = new Tensor[3];
        if (needsGrad[0]) {
            grads[0] = CudaTensors.empty(x.device(), b, t, c);
        }
        if (needsGrad[1]) {
            grads[1] = CudaTensors.empty(x.device(), weight.dim(0), weight.dim(1));
        }
        if (hasBias && needsGrad.length > 2 && needsGrad[2]) {
            grads[2] = CudaTensors.empty(x.device(), c);
        }
        DropConnect d = options.dropConnect();
        CudaTensors.enter(x.device());
        NativeCalls.check(LightConv.OP + " backward", AttnkitNative.attnkit_lightconv_backward(
                address(grads[0], "dx"), address(grads[1], "dweight"), address(grads[2], "dbias"),
                address(dy, "dy"), address(x, "x"), address(weight, "weight"), b, t, c, weight.dim(0), weight.dim(1),
                options.paddingLeft(), options.weightSoftmax() ? 1 : 0, d.p(), d.seed(), d.offset(), scope(d)));
        return grads;
    }

    static int scope(DropConnect d) {
        return d.scope() == DropConnect.Scope.POSITION ? 1 : 0;
    }
}
