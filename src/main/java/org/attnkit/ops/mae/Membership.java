package org.attnkit.ops.mae;

import org.attnkit.random.Philox;
import org.attnkit.tensor.Device;
import org.attnkit.tensor.Tensor;

/**
 * Expert membership matrices {@code M[E,H]} for {@link HeadMixture}: {@code M[e,h] = 1} when expert e
 * uses head h. Every expert has the same number m of heads, and its output is rescaled by H/m.
 * Also the expert sampling of the F-step of block coordinate descent (SPEC 3.3).
 */
public final class Membership {
    private static final String OP = "membership";

    /** Largest number of experts {@link #keepSubsets} builds, to catch a binomial blow-up early. */
    static final long MAX_EXPERTS = 1 << 20;

    private Membership() {
    }

    /**
     * The paper's MAE-(H-1) experts: E = H, expert e keeps every head but head e (m = H - 1), so
     * {@code M = 1 - I}. H must be at least 2, or the only expert would have no head.
     */
    public static Tensor dropOne(int heads) {
        if (heads < 2) {
            throw new IllegalArgumentException(OP + ": dropOne needs heads >= 2 (each expert keeps heads - 1 "
                    + ">= 1 heads), got " + heads);
        }
        float[] m = new float[heads * heads];
        for (int e = 0; e < heads; e++) {
            for (int h = 0; h < heads; h++) {
                m[e * heads + h] = e == h ? 0f : 1f;
            }
        }
        return Tensor.wrap(m, heads, heads);
    }

    /**
     * One expert per m-subset of the H heads, E = C(H, m) rows, in the lexicographic order of
     * Python's {@code itertools.combinations(range(H), m)}: (0,1), (0,2), ..., (H-2,H-1) for m = 2.
     */
    public static Tensor keepSubsets(int heads, int m) {
        if (heads < 1) {
            throw new IllegalArgumentException(OP + ": keepSubsets needs heads >= 1, got " + heads);
        }
        if (m < 1 || m > heads) {
            throw new IllegalArgumentException(OP + ": keepSubsets needs heads per expert m in [1, " + heads
                    + "], got " + m);
        }
        long experts = 1;
        for (int i = 1; i <= m; i++) {
            experts = experts * (heads - m + i) / i; // exact: a product of i consecutive ints over i!
            if (experts > MAX_EXPERTS) {
                throw new IllegalArgumentException(OP + ": keepSubsets(" + heads + ", " + m + ") would make more than "
                        + MAX_EXPERTS + " experts");
            }
        }
        float[] rows = new float[(int) experts * heads];
        int[] pick = new int[m];
        for (int i = 0; i < m; i++) {
            pick[i] = i;
        }
        for (int e = 0; e < experts; e++) {
            for (int i : pick) {
                rows[e * heads + i] = 1f;
            }
            // Next combination: bump the rightmost index that can move, reset the ones after it.
            int i = m - 1;
            while (i >= 0 && pick[i] == heads - m + i) {
                i--;
            }
            if (i < 0) {
                break;
            }
            pick[i]++;
            for (int j = i + 1; j < m; j++) {
                pick[j] = pick[j - 1] + 1;
            }
        }
        return Tensor.wrap(rows, (int) experts, heads);
    }

    /**
     * Validates a membership matrix {@code [E,H]} (entries 0 or 1, every row with the same count
     * m >= 1) and returns m. {@code op} names the caller in the messages.
     */
    static int headsPerExpert(String op, Tensor membership) {
        int experts = membership.dim(0);
        int heads = membership.dim(1);
        double[] mv = membership.to(Device.CPU).toDoubleArray(); // validated on the host, also for CUDA tensors
        int m = -1;
        for (int e = 0; e < experts; e++) {
            int count = 0;
            for (int h = 0; h < heads; h++) {
                double v = mv[e * heads + h];
                if (v != 0 && v != 1) {
                    throw new IllegalArgumentException(op + ": membership[" + e + "," + h + "] must be 0 or 1, got "
                            + v);
                }
                count += (int) v;
            }
            if (count == 0) {
                throw new IllegalArgumentException(op + ": membership row " + e + " has 0 heads; every expert needs "
                        + "at least 1 head");
            }
            if (m >= 0 && count != m) {
                throw new IllegalArgumentException(op + ": membership row " + e + " has " + count + " heads but row 0 "
                        + "has " + m + "; every expert must have the same number of heads");
            }
            m = count;
        }
        return m;
    }

    /**
     * Samples one expert per gate row for the F-step of block coordinate descent: expert e with
     * probability {@code gate[..., e] / sum_e gate[..., e]}, and returns it one-hot, in the gate's shape
     * and dtype, outside the autograd graph. Passed to {@link HeadMixture} in place of the gate it gives
     * {@code alpha_h = (H/m) M[e,h]}: the sampled expert's heads scaled by H/m, the others zero (with
     * drop-one experts: head e dropped with probability g_e).
     *
     * <p>Row r (row-major over the leading dimensions: b, or b*T + t for a per-token gate) draws the
     * uniform {@link Philox#uniform}{@code (seed, offset, r)}, so a seed gives the same experts on every
     * backend.
     *
     * @param gate {@code [B,E]} or {@code [B,T,E]}, finite, non-negative, every row with a positive sum
     */
    public static Tensor sampleOneHot(Tensor gate, long seed, long offset) {
        if (gate == null) {
            throw new IllegalArgumentException(OP + ": gate must not be null");
        }
        if (gate.rank() != 2 && gate.rank() != 3) {
            throw new IllegalArgumentException(OP + ": gate must have rank 2 [B,E] or 3 [B,T,E], got rank "
                    + gate.rank() + " with shape " + gate.shape());
        }
        int experts = gate.dim(-1);
        double[] g = gate.toDoubleArray();
        int rows = experts == 0 ? 0 : g.length / experts;
        double[] out = new double[g.length];
        for (int r = 0; r < rows; r++) {
            double sum = 0;
            for (int e = 0; e < experts; e++) {
                double v = g[r * experts + e];
                if (!(v >= 0) || Double.isInfinite(v)) {
                    throw new IllegalArgumentException(OP + ": gate entries must be finite and >= 0, got " + v
                            + " in row " + r + ", expert " + e);
                }
                sum += v;
            }
            if (!(sum > 0)) {
                throw new IllegalArgumentException(OP + ": gate row " + r + " sums to " + sum
                        + "; it needs a positive sum to sample from");
            }
            double target = Philox.uniform(seed, offset, r) * sum;
            int chosen = -1;
            double cumulative = 0;
            for (int e = 0; e < experts; e++) {
                double v = g[r * experts + e];
                if (v == 0) {
                    continue; // never pick an expert of probability zero, even through rounding
                }
                chosen = e;
                cumulative += v;
                if (target < cumulative) {
                    break;
                }
            }
            out[r * experts + chosen] = 1;
        }
        return Tensor.fromDoubles(out, gate.dtype(), gate.shape().toArray());
    }
}
