package org.attnkit.optim;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.attnkit.tensor.Tensor;

/**
 * Updates F32 parameters in place from their accumulated gradients. A parameter whose gradient is null
 * (it took no part in the loss, or it was frozen) is skipped and its optimizer state is left as it was,
 * as in PyTorch. The state ({@link #state()}) is what a checkpoint needs to resume exactly.
 *
 * <p>Each parameter is updated where it lives: a CPU parameter by {@link #update} (Java), a parameter on a
 * CUDA device by {@link #updateOnDevice}, one kernel over the parameter and its state, which lives on the
 * parameter's device and reproduces the Java update bit for bit ({@code cuda/optim.cu}).
 */
public abstract class Optimizer {
    protected final List<ParamGroup> groups;
    private double scale = 1.0;
    private long steps;

    protected Optimizer(List<ParamGroup> groups) {
        if (groups == null || groups.isEmpty()) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": needs at least one parameter group");
        }
        this.groups = List.copyOf(groups);
    }

    public List<ParamGroup> groups() {
        return groups;
    }

    /** Every parameter of every group. */
    public List<Tensor> parameters() {
        List<Tensor> all = new ArrayList<>();
        groups.forEach(g -> all.addAll(g.params()));
        return all;
    }

    /** The learning-rate multiplier of the next steps (what a schedule sets). */
    public void setLrScale(double s) {
        if (!(s >= 0) || Double.isInfinite(s)) {
            throw new IllegalArgumentException("lr scale must be finite and >= 0, got " + s);
        }
        scale = s;
    }

    public double lrScale() {
        return scale;
    }

    /** Steps taken so far. */
    public long steps() {
        return steps;
    }

    /** One update of every parameter that has a gradient. */
    public final void step() {
        steps++;
        int index = 0;
        for (ParamGroup g : groups) {
            for (Tensor p : g.params()) {
                if (p.grad() != null) {
                    if (p.device().isCpu()) {
                        update(index, p, p.grad().toDoubleArray(), g.lr() * scale, g.weightDecay());
                    } else {
                        updateOnDevice(index, p, p.grad(), g.lr() * scale, g.weightDecay());
                    }
                }
                index++;
            }
        }
    }

    /** Clears the gradients of every parameter. */
    public void zeroGrad() {
        groups.forEach(g -> g.params().forEach(Tensor::zeroGrad));
    }

    /** Updates parameter number {@code index} (over all groups) in place. */
    protected abstract void update(int index, Tensor p, double[] grad, double lr, double weightDecay);

    /**
     * Updates parameter number {@code index}, which lives on a CUDA device with its gradient, in place on
     * that device: the same update as {@link #update}, with the state on the parameter's device.
     */
    protected abstract void updateOnDevice(int index, Tensor p, Tensor grad, double lr, double weightDecay);

    /** The optimizer's state as named tensors (step count and per-parameter buffers). */
    public Map<String, Tensor> state() {
        Map<String, Tensor> s = new LinkedHashMap<>();
        s.put("steps", Tensor.wrap(new double[] {steps}, 1));
        saveBuffers(s);
        return s;
    }

    /** Restores a state written by {@link #state()} of an optimizer over the same parameters. */
    public void loadState(Map<String, Tensor> s) {
        Tensor st = s.get("steps");
        if (st == null) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ".loadState: missing 'steps'");
        }
        steps = (long) st.item();
        loadBuffers(s);
    }

    protected abstract void saveBuffers(Map<String, Tensor> out);

    protected abstract void loadBuffers(Map<String, Tensor> in);

    /** A per-parameter buffer from a state map, checked against the parameter's size. */
    protected static float[] buffer(Map<String, Tensor> in, String name, int size) {
        Tensor t = in.get(name);
        if (t == null) {
            return null;
        }
        if (t.numel() != size) {
            throw new IllegalArgumentException("optimizer state '" + name + "' has " + t.numel()
                    + " elements, the parameter has " + size);
        }
        return t.toArray();
    }
}
