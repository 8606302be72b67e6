package org.attnkit.ops.mae;

import org.attnkit.tensor.Tensor;

/** What every backend implements for {@link MaeGate}. Arguments are validated by the caller. */
public interface MaeGateKernels {
    /** g[B,E] (causal: g[B,T,E]) from x[B,T,D], w1[G,D], b1[G]?, w2[E,G], b2[E]? (null biases are zero). */
    Tensor forward(Tensor x, Tensor w1, Tensor b1, Tensor w2, Tensor b2, boolean causal);

    /**
     * {dx, dw1, db1, dw2, db2} for the gate gradient dg, given the saved output gate g; entry i is
     * computed only when {@code needs[i]} and is null otherwise.
     */
    Tensor[] backward(Tensor x, Tensor w1, Tensor b1, Tensor w2, Tensor b2, boolean causal, Tensor g, Tensor dg,
            boolean[] needs);
}
