package org.attnkit.backend.cuda;

import java.util.Locale;
import org.attnkit.ops.attention.Attention;
import org.attnkit.ops.mae.GatedAttention;
import org.attnkit.ops.mae.Membership;
import org.attnkit.tensor.Device;
import org.attnkit.tensor.Tensor;

/**
 * Times attention on CUDA with CUDA events at the shape (B=8 H=16 T=4096 d=64, here in fp32: the
 * tiled kernels), forward and backward, causal or not, and the MAE gated attention forward (alpha in the
 * epilogue: it should cost the same as plain attention). FLOPs counted as 4 B H T^2 d forward (halved when
 * causal) and 2.5 times that backward (with the recompute). {@code cuda/gpu-verify.sh attention peer} runs it
 * next to PyTorch's scaled_dot_product_attention. {@code java ... CudaAttentionBench [B H T d] [reps]}. Needs a
 * GPU.
 */
public final class CudaAttentionBench {
    private CudaAttentionBench() {
    }

    public static void main(String[] args) {
        int b = args.length >= 4 ? Integer.parseInt(args[0]) : 8;
        int h = args.length >= 4 ? Integer.parseInt(args[1]) : 16;
        int t = args.length >= 4 ? Integer.parseInt(args[2]) : 4096;
        int d = args.length >= 4 ? Integer.parseInt(args[3]) : 64;
        int reps = args.length == 5 ? Integer.parseInt(args[4]) : 10;
        Cuda.Status s = Cuda.status();
        if (!s.available()) {
            System.out.println("CUDA unavailable: " + s.reason());
            System.exit(2);
        }
        Device gpu = Device.cuda(0);
        int c = h * d;
        Tensor q = Tensor.randn(1, b, t, c).to(gpu);
        Tensor k = Tensor.randn(2, b, t, c).to(gpu);
        Tensor v = Tensor.randn(3, b, t, c).to(gpu);
        Tensor dy = Tensor.randn(4, b, t, c).to(gpu);
        Tensor gate = Tensor.full(1f / h, b, h).to(gpu);
        Tensor membership = Membership.dropOne(h).to(gpu);
        double flops = 4.0 * b * h * (double) t * t * d;
        System.out.printf(Locale.ROOT, "attention fp32 B=%d H=%d T=%d d=%d%n", b, h, t, d);
        for (boolean causal : new boolean[] {false, true}) {
            double f = causal ? flops / 2 : flops;
            double fwd = median(reps, () -> CudaTensors.time(gpu,
                    () -> CudaTensors.release(Attention.apply(q, k, v, h, causal, null))));
            report("forward" + (causal ? " causal" : ""), fwd, f);
            double gated = median(reps, () -> CudaTensors.time(gpu,
                    () -> CudaTensors.release(GatedAttention.apply(q, k, v, h, causal, null, gate, membership))));
            report("gated (MAE) forward" + (causal ? " causal" : ""), gated, f);
            Tensor qg = Tensor.randn(1, b, t, c).to(gpu).requiresGrad(true);
            Tensor kg = Tensor.randn(2, b, t, c).to(gpu).requiresGrad(true);
            Tensor vg = Tensor.randn(3, b, t, c).to(gpu).requiresGrad(true);
            double bwd = median(reps, () -> {
                Tensor y = Attention.apply(qg, kg, vg, h, causal, null);
                qg.zeroGrad();
                kg.zeroGrad();
                vg.zeroGrad();
                float ms = CudaTensors.time(gpu, () -> y.backward(dy));
                CudaTensors.release(y);
                CudaTensors.release(qg.grad());
                CudaTensors.release(kg.grad());
                CudaTensors.release(vg.grad());
                return ms;
            });
            report("backward (dq, dk, dv)" + (causal ? " causal" : ""), bwd, 2.5 * f);
        }
    }

    private static void report(String what, double ms, double flops) {
        System.out.printf(Locale.ROOT, "%-36s %9.3f ms  %7.2f TFLOP/s%n", what, ms, flops / (ms * 1e9));
    }

    private static double median(int reps, java.util.function.Supplier<Float> run) {
        run.get(); // warm-up: module load, first-touch
        double[] v = new double[reps];
        for (int i = 0; i < reps; i++) {
            v[i] = run.get();
        }
        java.util.Arrays.sort(v);
        return v[reps / 2];
    }
}
