package org.attnkit.nn;

import org.attnkit.tensor.Tensor;

/** Gated linear unit over the last dimension: {@code a * sigmoid(g)} for x = [a, g]; no parameters. */
public final class Glu extends Module {
    public Tensor forward(Tensor x) {
        return org.attnkit.ops.glu.Glu.apply(x, -1);
    }
}
