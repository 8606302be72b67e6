package org.attnkit.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import org.attnkit.autograd.GradMode;
import org.attnkit.ops.attention.Attention;
import org.attnkit.ops.dynamicconv.DynamicConv;
import org.attnkit.ops.glu.Glu;
import org.attnkit.ops.layernorm.LayerNorm;
import org.attnkit.ops.lightconv.LightConv;
import org.attnkit.ops.linear.Linear;
import org.attnkit.ops.mae.HeadMixture;
import org.attnkit.ops.mae.MaeGate;
import org.attnkit.ops.mae.Membership;
import org.attnkit.ops.matmul.MatMul;
import org.attnkit.ops.softmax.Softmax;
import org.attnkit.tensor.CpuScope;
import org.attnkit.tensor.Tensor;

/**
 * The benchmarked operators and how each maps a {@link BenchShape} onto its tensors (all float32,
 * seeded standard normal values; costs in {@link Costs}):
 * <ul>
 * <li>{@code lightconv}: x[B,T,C], weight[H,K], centered padding, weight softmax, no bias.
 * <li>{@code dynamicconv}: x[B,T,C] (also the query), generator weight[H*K,C] / sqrt(C), no bias,
 *     centered padding, weight softmax.
 * <li>{@code attention}: q, k, v [B,T,C], H heads of C/H, no causal mask, no padding.
 * <li>{@code mae}: the MAE gate of x[B,T,C] (hidden width {@link #MAE_GATE_HIDDEN}, E = H drop-one
 *     experts, sequence mean) followed by the head mixture of o[B,T,C]: the MAE extras of one layer.
 * <li>{@code gemm}: matmul a[B*T,C] x b[C,C] (B=8 T=512 C=512 is the 4096x512x512).
 * <li>{@code linear}: x[B,T,C] W[C,C]^T + bias[C].
 * <li>{@code layernorm}: over C of x[B,T,C], with gamma and beta.
 * <li>{@code softmax}: over C of x[B,T,C].
 * <li>{@code glu}: x[B,T,2C] -> [B,T,C].
 * </ul>
 * H and K matter only to the ops that have heads or kernels.
 */
public enum BenchOp {
    LIGHTCONV, DYNAMICCONV, ATTENTION, MAE, GEMM, LINEAR, LAYERNORM, SOFTMAX, GLU;

    /** Hidden width of the MAE gate's MLP (SPEC 3.2 leaves it open). */
    public static final int MAE_GATE_HIDDEN = 64;

    /** Lower-case name as used by {@code --op} and in the output. */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Parses one name (any case). */
    public static BenchOp parse(String s) {
        String t = s == null ? "" : s.trim();
        for (BenchOp op : values()) {
            if (op.id().equalsIgnoreCase(t)) {
                return op;
            }
        }
        throw new IllegalArgumentException("unknown op '" + s + "'; expected one of " + names());
    }

    /** "lightconv, dynamicconv, ...". */
    public static String names() {
        List<String> n = new ArrayList<>();
        for (BenchOp op : values()) {
            n.add(op.id());
        }
        return String.join(", ", n);
    }

    /** Inputs of this op at {@code shape}, ready to run either pass. Allocates; call outside timing. */
    public Workload prepare(BenchShape shape) {
        return new Workload(this, shape);
    }

    /** One op's inputs and output gradient, and the calls that the timer repeats. */
    public static final class Workload {
        private final BenchOp op;
        private final BenchShape shape;
        private final Tensor[] params;
        private final Tensor dy;
        private final Call call;

        @FunctionalInterface
        private interface Call {
            Tensor apply(Tensor[] p);
        }

        Workload(BenchOp op, BenchShape s) {
            this.op = op;
            this.shape = s;
            long seed = 1234;
            int b = s.B();
            int t = s.T();
            int c = s.C();
            int h = s.H();
            int k = s.K();
            switch (op) {
                case LIGHTCONV -> {
                    params = new Tensor[] {randn(seed, 1, b, t, c), randn(seed + 1, 1, h, k)};
                    LightConv.Options o = LightConv.Options.centered(k);
                    call = p -> LightConv.apply(p[0], p[1], null, o);
                }
                case DYNAMICCONV -> {
                    params = new Tensor[] {randn(seed, 1, b, t, c), randn(seed + 1, 1 / Math.sqrt(c), h * k, c)};
                    DynamicConv.Options o = DynamicConv.Options.centered(k);
                    call = p -> DynamicConv.apply(p[0], null, p[1], null, h, o);
                }
                case ATTENTION -> {
                    params = new Tensor[] {randn(seed, 1, b, t, c), randn(seed + 1, 1, b, t, c),
                        randn(seed + 2, 1, b, t, c)};
                    call = p -> Attention.apply(p[0], p[1], p[2], h, false, null);
                }
                case MAE -> {
                    int g = MAE_GATE_HIDDEN;
                    params = new Tensor[] {randn(seed, 1, b, t, c), randn(seed + 1, 1 / Math.sqrt(c), g, c),
                        randn(seed + 2, 0.1, g), randn(seed + 3, 1 / Math.sqrt(g), h, g), randn(seed + 4, 0.1, h),
                        randn(seed + 5, 1, b, t, c)};
                    Tensor membership = Membership.dropOne(h);
                    call = p -> HeadMixture.apply(p[5], MaeGate.apply(p[0], p[1], p[2], p[3], p[4], false),
                            membership);
                }
                case GEMM -> {
                    params = new Tensor[] {randn(seed, 1, b * t, c), randn(seed + 1, 1 / Math.sqrt(c), c, c)};
                    call = p -> MatMul.apply(p[0], p[1]);
                }
                case LINEAR -> {
                    params = new Tensor[] {randn(seed, 1, b, t, c), randn(seed + 1, 1 / Math.sqrt(c), c, c),
                        randn(seed + 2, 0.1, c)};
                    call = p -> Linear.apply(p[0], p[1], p[2]);
                }
                case LAYERNORM -> {
                    params = new Tensor[] {randn(seed, 1, b, t, c), randn(seed + 1, 1, c), randn(seed + 2, 1, c)};
                    call = p -> LayerNorm.apply(p[0], p[1], p[2]);
                }
                case SOFTMAX -> {
                    params = new Tensor[] {randn(seed, 1, b, t, c)};
                    call = p -> Softmax.apply(p[0], 2);
                }
                case GLU -> {
                    params = new Tensor[] {randn(seed, 1, b, t, 2 * c)};
                    call = p -> Glu.apply(p[0], 2);
                }
                default -> throw new AssertionError(op);
            }
            int[] outShape = op == GEMM ? new int[] {b * t, c} : new int[] {b, t, c};
            dy = randn(seed + 99, 1, outShape);
        }

        public BenchOp op() {
            return op;
        }

        public BenchShape shape() {
            return shape;
        }

        /**
         * One call: the forward with no graph recorded, or the forward with every input requiring a
         * gradient followed by the backward of {@code sum(y * dy)}. Gradients are cleared first so that
         * repetitions do the same work. Runs on the backend pinned on this thread, if any, inside a
         * {@link CpuScope} as a training step would: the arrays of one call's outputs are recycled by the
         * next (on CUDA, {@link CudaRunner} does the same with its device buffers).
         */
        public void run(Pass pass) {
            try (CpuScope ignored = CpuScope.open()) {
                if (pass == Pass.FWD) {
                    try (GradMode.Scope noGrad = GradMode.noGrad()) {
                        sink(call.apply(params));
                    }
                    return;
                }
                for (Tensor p : params) {
                    p.zeroGrad();
                    p.requiresGrad(true);
                }
                Tensor y = call.apply(params);
                y.backward(dy);
                sink(params[0].grad());
            }
        }

        private static volatile float blackhole;

        /**
         * The same workload with its inputs and output gradient copied to {@code device} (a CUDA device: the
         * timed calls then run on the CUDA backend). Allocates and copies; call outside timing.
         */
        public Workload to(org.attnkit.tensor.Device device) {
            Tensor[] p = new Tensor[params.length];
            for (int i = 0; i < p.length; i++) {
                p[i] = params[i].to(device);
            }
            return new Workload(op, shape, p, dy.to(device), call);
        }

        private Workload(BenchOp op, BenchShape shape, Tensor[] params, Tensor dy, Call call) {
            this.op = op;
            this.shape = shape;
            this.params = params;
            this.dy = dy;
            this.call = call;
        }

        /** The inputs (on the workload's device). */
        public Tensor[] inputs() {
            return params.clone();
        }

        /** Reads one element so the JIT cannot drop the call (device results are waited for by the timer). */
        private static void sink(Tensor t) {
            if (t != null && t.numel() > 0 && t.device().isCpu()) {
                blackhole = (float) t.get(new int[t.rank()]);
            }
        }
    }

    /** Seeded normal values times {@code scale}. */
    static Tensor randn(long seed, double scale, int... shape) {
        long n = 1;
        for (int d : shape) {
            n *= d;
        }
        if (n > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("a tensor of shape " + java.util.Arrays.toString(shape)
                    + " has more than 2^31 elements");
        }
        float[] v = new float[(int) n];
        SplittableRandom r = new SplittableRandom(seed);
        float f = (float) scale;
        for (int i = 0; i < v.length; i++) {
            // Sum of 4 uniforms: cheap, bell-shaped, unit variance after scaling; the exact distribution
            // does not matter for timing, only that values are finite and softmax inputs moderate.
            double u = r.nextDouble() + r.nextDouble() + r.nextDouble() + r.nextDouble() - 2.0;
            v[i] = (float) (u * Math.sqrt(3.0)) * f;
        }
        return Tensor.wrap(v, shape);
    }
}
