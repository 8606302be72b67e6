package org.attnkit.ops.loss;

import static org.attnkit.backend.cuda.CudaTensors.address;

import java.util.Arrays;
import org.attnkit.backend.cuda.AttnkitNative;
import org.attnkit.backend.cuda.Cuda;
import org.attnkit.backend.cuda.CudaTensors;
import org.attnkit.backend.cuda.NativeCalls;
import org.attnkit.tensor.Device;
import org.attnkit.tensor.Tensor;

/**
 * {@link CrossEntropy} on CUDA ({@code cuda/rowwise.cu}): one warp per row for the log-sum-exp and the
 * row loss, the SUM/MEAN reduction by the deterministic row sum of {@code cuda/pointwise.cu}. The host
 * targets travel to the device as floats (exact for C up to 2^24; ignored rows as -1), uploaded per call
 * and released after it. At most {@value #MAX_CLASSES} classes; more throw UnsupportedOperationException
 * before availability is asked. The native library is touched only after {@link Cuda#requireAvailable}
 * passed. Compiled and verified on an H200 (2026-12-04: the CUDA equivalence tests pass).
 */
final class CrossEntropyCuda implements CrossEntropyKernels {
    static final int MAX_CLASSES = 1 << 24;
    private static final String OP = "cross_entropy";

    @Override
    public Forward forward(Tensor logits, int[] targets, int ignoreIndex, Reduction reduction) {
        int classes = supported(logits);
        Cuda.requireAvailable(OP + " forward");
        Device device = logits.device();
        int rows = targets.length;
        int[] leading = Arrays.copyOf(logits.shape().toArray(), logits.rank() - 1);
        Tensor lse = CudaTensors.empty(device, rows);
        Tensor perRow = CudaTensors.empty(device, leading);
        if (rows > 0 && classes > 0) {
            Tensor t = upload(targets, ignoreIndex, device);
            try {
                CudaTensors.enter(device);
                NativeCalls.check(OP + " forward", AttnkitNative.attnkit_cross_entropy_forward(address(perRow, "loss"),
                        address(lse, "lse"), address(logits, "logits"), address(t, "targets"), rows, classes));
            } finally {
                CudaTensors.release(t);
            }
        }
        if (reduction == Reduction.NONE) {
            return new Forward(perRow, lse);
        }
        Tensor loss = CudaTensors.zeros(device);
        int count = count(targets, ignoreIndex);
        if (rows > 0 && classes > 0) {
            // MEAN of no counted row is 0 (the reference's rule), hence the scale 0 then.
            double scale = reduction == Reduction.SUM ? 1.0 : count == 0 ? 0.0 : 1.0 / count;
            NativeCalls.check(OP + " forward", AttnkitNative.attnkit_reduce_sum(address(loss, "loss"),
                    address(perRow, "per-row loss"), 1, rows, 1, scale));
        }
        CudaTensors.release(perRow);
        return new Forward(loss, lse);
    }

    @Override
    public Tensor backward(Tensor logits, Tensor logSumExp, int[] targets, int ignoreIndex, Reduction reduction,
            Tensor dLoss) {
        int classes = supported(logits);
        Cuda.requireAvailable(OP + " backward");
        Device device = logits.device();
        int rows = targets.length;
        Tensor dx = CudaTensors.empty(device, logits.shape().toArray());
        if (dx.numel() == 0) {
            return dx;
        }
        int count = count(targets, ignoreIndex);
        double scale = reduction == Reduction.MEAN ? (count == 0 ? 0.0 : 1.0 / count) : 1.0;
        Tensor t = upload(targets, ignoreIndex, device);
        try {
            CudaTensors.enter(device);
            NativeCalls.check(OP + " backward", AttnkitNative.attnkit_cross_entropy_backward(address(dx, "dlogits"),
                    address(logits, "logits"), address(logSumExp, "lse"), address(t, "targets"),
                    address(dLoss, "dloss"), rows, classes, reduction == Reduction.NONE ? 1 : 0, scale));
        } finally {
            CudaTensors.release(t);
        }
        return dx;
    }

    private static int supported(Tensor logits) {
        int classes = logits.dim(-1);
        if (classes > MAX_CLASSES) {
            throw new UnsupportedOperationException(OP + " on CUDA supports at most " + MAX_CLASSES
                    + " classes (targets travel as float32), got C = " + classes);
        }
        return classes;
    }

    private static int count(int[] targets, int ignoreIndex) {
        int count = 0;
        for (int t : targets) {
            count += t != ignoreIndex ? 1 : 0;
        }
        return count;
    }

    /** The targets as floats on the device, -1 for ignored rows. */
    private static Tensor upload(int[] targets, int ignoreIndex, Device device) {
        float[] f = new float[targets.length];
        for (int i = 0; i < f.length; i++) {
            f[i] = targets[i] == ignoreIndex ? -1f : targets[i];
        }
        return Tensor.of(f, f.length).to(device);
    }
}
