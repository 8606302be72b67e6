package org.attnkit.optim;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.attnkit.tensor.Tensor;

/**
 * Adam (Kingma and Ba) and AdamW (Loshchilov and Hutter), as PyTorch computes them. With t the number of
 * updates of this parameter:
 * <pre>
 *   Adam:  g' = g + wd p                 AdamW: g' = g,  p = p (1 - lr wd)
 *   m = b1 m + (1 - b1) g';   v = b2 v + (1 - b2) g'^2
 *   p = p - lr (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
 * </pre>
 * The update is computed in double and stored in float; m and v are kept in float. For a parameter on a CUDA
 * device m and v live on that device and one kernel ({@code cuda/optim.cu}) does the same arithmetic in the
 * same order (no fused multiply-adds), so it gives the CPU update's bits; {@link #state()} copies them to
 * the host, and a restored state moves to the device at the parameter's next update.
 */
public final class Adam extends Optimizer {
    private final double beta1;
    private final double beta2;
    private final double eps;
    private final boolean decoupled;
    private final Map<Integer, float[]> m = new HashMap<>();
    private final Map<Integer, float[]> v = new HashMap<>();
    private final Map<Integer, Long> t = new HashMap<>();
    private final Map<Integer, Tensor> deviceM = new HashMap<>();
    private final Map<Integer, Tensor> deviceV = new HashMap<>();

    public Adam(List<ParamGroup> groups, double beta1, double beta2, double eps, boolean decoupledWeightDecay) {
        super(groups);
        if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1)) {
            throw new IllegalArgumentException("Adam: betas must be in [0, 1), got (" + beta1 + ", " + beta2 + ")");
        }
        if (!(eps > 0)) {
            throw new IllegalArgumentException("Adam: eps must be > 0, got " + eps);
        }
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.decoupled = decoupledWeightDecay;
    }

    /** Adam with the usual betas (0.9, 0.999), eps 1e-8 and no weight decay. */
    public static Adam of(List<Tensor> params, double lr) {
        return new Adam(List.of(ParamGroup.of(params, lr)), 0.9, 0.999, 1e-8, false);
    }

    /** AdamW with the usual betas and decoupled weight decay {@code wd}. */
    public static Adam adamW(List<Tensor> params, double lr, double wd) {
        return new Adam(List.of(new ParamGroup("default", params, lr, wd)), 0.9, 0.999, 1e-8, true);
    }

    @Override
    protected void update(int index, Tensor p, double[] grad, double lr, double weightDecay) {
        float[] w = p.data();
        toHost(index, deviceM, m);
        toHost(index, deviceV, v);
        float[] mi = m.computeIfAbsent(index, i -> new float[w.length]);
        float[] vi = v.computeIfAbsent(index, i -> new float[w.length]);
        long ti = t.merge(index, 1L, Long::sum);
        double c1 = 1 - Math.pow(beta1, ti);
        double c2 = 1 - Math.pow(beta2, ti);
        for (int i = 0; i < w.length; i++) {
            double wi = w[i];
            double g = grad[i];
            if (decoupled) {
                wi *= 1 - lr * weightDecay;
            } else {
                g += weightDecay * wi;
            }
            mi[i] = (float) (beta1 * mi[i] + (1 - beta1) * g);
            vi[i] = (float) (beta2 * vi[i] + (1 - beta2) * g * g);
            double mhat = mi[i] / c1;
            double vhat = vi[i] / c2;
            w[i] = (float) (wi - lr * mhat / (Math.sqrt(vhat) + eps));
        }
    }

    @Override
    protected void updateOnDevice(int index, Tensor p, Tensor grad, double lr, double weightDecay) {
        Tensor mi = onDevice(index, p, m, deviceM);
        Tensor vi = onDevice(index, p, v, deviceV);
        long ti = t.merge(index, 1L, Long::sum);
        double c1 = 1 - Math.pow(beta1, ti);
        double c2 = 1 - Math.pow(beta2, ti);
        OptimCuda.adam(p, grad, mi, vi, lr, beta1, beta2, eps, weightDecay, decoupled, c1, c2);
    }

    /** The device buffer of parameter index: existing, uploaded from a host state, or zeros. */
    static Tensor onDevice(int index, Tensor p, Map<Integer, float[]> host, Map<Integer, Tensor> device) {
        Tensor b = device.get(index);
        if (b != null && b.device().equals(p.device())) {
            return b;
        }
        float[] h = host.remove(index);
        if (h == null && b != null) {
            h = b.to(org.attnkit.tensor.Device.CPU).toArray();
        }
        b = h != null ? OptimCuda.upload(h, p.device()) : OptimCuda.zerosLike(p);
        device.put(index, b);
        return b;
    }

    /** Moves a device buffer of parameter index back to the host map (the parameter moved to the CPU). */
    static void toHost(int index, Map<Integer, Tensor> device, Map<Integer, float[]> host) {
        Tensor b = device.remove(index);
        if (b != null) {
            host.put(index, b.to(org.attnkit.tensor.Device.CPU).toArray());
        }
    }

    @Override
    protected void saveBuffers(Map<String, Tensor> out) {
        m.forEach((i, b) -> out.put("m." + i, Tensor.of(b, b.length)));
        v.forEach((i, b) -> out.put("v." + i, Tensor.of(b, b.length)));
        deviceM.forEach((i, b) -> out.put("m." + i, b.to(org.attnkit.tensor.Device.CPU)));
        deviceV.forEach((i, b) -> out.put("v." + i, b.to(org.attnkit.tensor.Device.CPU)));
        t.forEach((i, n) -> out.put("t." + i, Tensor.wrap(new double[] {n}, 1)));
    }

    @Override
    protected void loadBuffers(Map<String, Tensor> in) {
        m.clear();
        v.clear();
        t.clear();
        deviceM.clear();
        deviceV.clear();
        List<Tensor> ps = parameters();
        for (int i = 0; i < ps.size(); i++) {
            int n = ps.get(i).numel();
            float[] mi = buffer(in, "m." + i, n);
            float[] vi = buffer(in, "v." + i, n);
            Tensor ti = in.get("t." + i);
            if (mi != null && vi != null && ti != null) {
                m.put(i, mi);
                v.put(i, vi);
                t.put(i, (long) ti.item());
            }
        }
    }
}
