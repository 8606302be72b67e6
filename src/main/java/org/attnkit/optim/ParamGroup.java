package org.attnkit.optim;

import java.util.List;
import org.attnkit.tensor.Tensor;

/**
 * Parameters that share a learning rate and weight decay. The effective learning rate of a step is
 * {@code lr * scale}, where the scale comes from a {@link Schedule}.
 */
public record ParamGroup(String name, List<Tensor> params, double lr, double weightDecay) {
    public ParamGroup {
        if (params == null) {
            throw new IllegalArgumentException("ParamGroup '" + name + "': params must not be null");
        }
        params = List.copyOf(params);
        if (!(lr >= 0) || Double.isInfinite(lr)) {
            throw new IllegalArgumentException("ParamGroup '" + name + "': lr must be finite and >= 0, got " + lr);
        }
        if (!(weightDecay >= 0) || Double.isInfinite(weightDecay)) {
            throw new IllegalArgumentException("ParamGroup '" + name + "': weightDecay must be finite and >= 0, got "
                    + weightDecay);
        }
        for (Tensor p : params) {
            if (!p.isLeaf()) {
                throw new IllegalArgumentException("ParamGroup '" + name + "': parameters must be leaf tensors, got "
                        + p);
            }
        }
    }

    public static ParamGroup of(List<Tensor> params, double lr) {
        return new ParamGroup("default", params, lr, 0);
    }
}
