package org.attnkit.ops.linear;

import org.attnkit.tensor.Tensor;

/** PLACEHOLDER signature (replaced by the Linear implementation). */
public final class Linear {
    private Linear() {
    }

    /** x[..., in], weight[out, in], bias[out] or null. */
    public static Tensor apply(Tensor x, Tensor weight, Tensor bias) {
        throw new UnsupportedOperationException("linear: not implemented yet");
    }
}
