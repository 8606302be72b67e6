package org.attnkit.optim;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.attnkit.tensor.Tensor;

/**
 * Stochastic gradient descent with optional momentum and L2 weight decay, as PyTorch's {@code SGD}
 * (dampening 0): {@code g' = g + wd p; buf = mu buf + g' (buf = g' on the first step); p -= lr buf}
 * (without momentum {@code p -= lr g'}). For a parameter on a CUDA device the momentum buffer lives on that
 * device and one kernel ({@code cuda/optim.cu}) does the same double arithmetic in the same order, giving the
 * CPU update's bits.
 */
public final class Sgd extends Optimizer {
    private final double momentum;
    private final Map<Integer, float[]> buffers = new HashMap<>();
    private final Map<Integer, Tensor> deviceBuffers = new HashMap<>();

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
        Adam.toHost(index, deviceBuffers, buffers);
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
    protected void updateOnDevice(int index, Tensor p, Tensor grad, double lr, double weightDecay) {
        Tensor buf = null;
        boolean first = false;
        if (momentum > 0) {
            first = !buffers.containsKey(index) && !deviceBuffers.containsKey(index);
            buf = Adam.onDevice(index, p, buffers, deviceBuffers);
        }
        OptimCuda.sgd(p, grad, buf, lr, momentum, weightDecay, first);
    }

    @Override
    protected void saveBuffers(Map<String, Tensor> out) {
        buffers.forEach((i, b) -> out.put("momentum." + i, Tensor.of(b, b.length)));
        deviceBuffers.forEach((i, b) -> out.put("momentum." + i, b.to(org.attnkit.tensor.Device.CPU)));
    }

    @Override
    protected void loadBuffers(Map<String, Tensor> in) {
        buffers.clear();
        deviceBuffers.clear();
        List<Tensor> ps = parameters();
        for (int i = 0; i < ps.size(); i++) {
            float[] b = buffer(in, "momentum." + i, ps.get(i).numel());
            if (b != null) {
                buffers.put(i, b);
            }
        }
    }
}
