package org.attnkit.ops.linear;

import org.attnkit.autograd.Autograd;
import org.attnkit.autograd.GradMode;
import org.attnkit.ops.linear.LinearEpilogue.Activation;
import org.attnkit.tensor.Tensor;

/**
 * {@link LinearEpilogue} on the host backends (reference and SIMD) as the composition of the existing
 * kernels, on whichever backend the call selected: the {@link Linear} kernels directly, and the activation
 * through its public operator (its kernels are private to its package), so the result is bit for bit
 * {@code Linear.apply} followed by the activation. Backward recomputes the activation from the saved z in a
 * small graph of its own and runs its backward (the same bits as the unfused backward, which reads the
 * saved y or z: the recomputation is deterministic), then the Linear kernels' backward.
 */
final class LinearEpilogueComposed implements LinearEpilogueKernels {
    @Override
    public Tensor[] forward(Tensor x, Tensor weight, Tensor bias, Activation activation, boolean saveForBackward) {
        Tensor z = Linear.KERNELS.select(x, weight, bias).forward(x, weight, bias);
        Tensor y;
        try (GradMode.Scope ignored = GradMode.noGrad()) {
            y = activation.applyUnfused(z);
        }
        return new Tensor[] {y, z};
    }

    @Override
    public Tensor[] backward(Tensor x, Tensor weight, Tensor y, Tensor z, Tensor dy, Activation activation,
            boolean[] needsGrad) {
        Tensor zLeaf = z.detach().requiresGrad(true);
        try (GradMode.Scope ignored = GradMode.enableGrad()) {
            Autograd.backward(activation.applyUnfused(zLeaf), dy);
        }
        Tensor dz = zLeaf.grad();
        return Linear.KERNELS.select(x, weight).backward(x, weight, dz, needsGrad);
    }
}
