package org.attnkit.nn;

import java.util.SplittableRandom;
import org.attnkit.tensor.Tensor;

/** {@code y = x W^T + b} over the last dimension; W {@code [out, in]} Xavier-uniform, b zero. */
public final class Linear extends Module {
    public final int in;
    public final int out;
    public final Tensor weight;
    public final Tensor bias;

    public Linear(SplittableRandom rng, int in, int out, boolean bias) {
        if (in < 1 || out < 1) {
            throw new IllegalArgumentException("Linear: in and out must be >= 1, got in=" + in + ", out=" + out);
        }
        this.in = in;
        this.out = out;
        this.weight = parameter("weight", Init.xavier(rng, out, in));
        this.bias = bias ? parameter("bias", Tensor.zeros(out)) : null;
    }

    public Tensor forward(Tensor x) {
        return org.attnkit.ops.linear.Linear.apply(x, weight, bias);
    }

    /**
     * The activation of this layer's output as one operator: the same bits as the activation op applied to
     * {@link #forward(Tensor)} on the CPU, one fused GEMM epilogue on CUDA.
     */
    public Tensor forward(Tensor x, org.attnkit.ops.linear.LinearEpilogue.Activation activation) {
        return org.attnkit.ops.linear.LinearEpilogue.apply(x, weight, bias, activation);
    }
}
