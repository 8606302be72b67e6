package org.attnkit.optim;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.attnkit.tensor.Tensor;

/**
 * Stochastic gradient descent with optional momentum and L2 weight decay, as PyTorch's {@code SGD}
 * (dampening 0): {@code g' = g + wd p; buf = mu buf + g' (buf = g' on the first step); p -= lr buf}
 * (without momentum {@code p -= lr g'}).
 */
public final class Sgd extends Optimizer {
    private final double momentum;
    private final Map<Integer, float[]> buffers = new HashMap<>();

    public Sgd(List<ParamGroup> groups, double momentum) {
        super(groups);
        if (!(momentum >= 0 && momentum < 1)) {
            throw new IllegalArgumentException("Sgd: momentum must be in [0, 1), got " + momentum);
        }
        this.momentum = momentum;
    }

    /** Plain SGD (no momentum, no weight decay) over one group. */
    public static Sgd of(List<Tensor> params, double lr) {
        return new Sgd(List.of(ParamGroup.of(params, lr)), 0);
    }

    @Override
    protected void update(int index, Tensor p, double[] grad, double lr, double weightDecay) {
        float[] w = p.data();
        float[] buf = momentum > 0 ? buffers.get(index) : null;
        boolean first = momentum > 0 && buf == null;
        if (first) {
            buf = new float[w.length];
            buffers.put(index, buf);
        }
        for (int i = 0; i < w.length; i++) {
            double g = grad[i] + weightDecay * w[i];
            if (momentum > 0) {
                buf[i] = (float) (first ? g : momentum * buf[i] + g);
                g = buf[i];
            }
            w[i] = (float) (w[i] - lr * g);
        }
    }

    @Override
    protected void saveBuffers(Map<String, Tensor> out) {
        buffers.forEach((i, b) -> out.put("momentum." + i, Tensor.of(b, b.length)));
    }

    @Override
    protected void loadBuffers(Map<String, Tensor> in) {
        buffers.clear();
        List<Tensor> ps = parameters();
        for (int i = 0; i < ps.size(); i++) {
            float[] b = buffer(in, "momentum." + i, ps.get(i).numel());
            if (b != null) {
                buffers.put(i, b);
            }
        }
    }
}
