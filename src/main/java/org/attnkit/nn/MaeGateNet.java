package org.attnkit.nn;

import java.util.SplittableRandom;
import org.attnkit.ops.mae.MaeGate;
import org.attnkit.tensor.Tensor;

/**
 * The MAE gate network (SPEC section 0): {@code g = softmax(W2 tanh(W1 tanh(mean_t x) + b1) + b2)} over
 * E experts, one gate per sequence. Kept a module of its own so that its parameters form the gate group
 * of block coordinate descent.
 */
public final class MaeGateNet extends Module {
    public final Tensor w1;
    public final Tensor b1;
    public final Tensor w2;
    public final Tensor b2;

    public MaeGateNet(SplittableRandom rng, int dim, int hidden, int experts) {
        w1 = parameter("w1", Init.xavier(rng, hidden, dim));
        b1 = parameter("b1", Tensor.zeros(hidden));
        // A zero last layer starts the gate uniform, i.e. the mixture starts as plain multi-head attention.
        w2 = parameter("w2", Tensor.zeros(experts, hidden));
        b2 = parameter("b2", Tensor.zeros(experts));
    }

    /** {@code [B,T,D] -> [B,E]}. */
    public Tensor forward(Tensor x) {
        return MaeGate.apply(x, w1, b1, w2, b2, false);
    }
}
