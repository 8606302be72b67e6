package org.attnkit.autograd;

import java.util.Arrays;
import org.attnkit.tensor.Tensor;

/**
 * One recorded operation in the define-by-run graph: its name (for messages), its inputs (null for
 * an absent optional input such as a missing bias) and its gradient rule. The rule's closure holds
 * whatever the forward pass saved.
 */
public final class Node {
    private final String op;
    private final Tensor[] inputs;
    private final BackwardFn fn;

    Node(String op, Tensor[] inputs, BackwardFn fn) {
        this.op = op;
        this.inputs = inputs;
        this.fn = fn;
    }

    /** The operation's name, e.g. "lightconv". */
    public String op() {
        return op;
    }

    Tensor[] inputs() {
        return inputs;
    }

    BackwardFn fn() {
        return fn;
    }

    @Override
    public String toString() {
        return op + Arrays.toString(Arrays.stream(inputs).map(t -> t == null ? "-" : t.shape().toString()).toArray());
    }
}
