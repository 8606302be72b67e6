package org.attnkit.ops.loss;

import org.attnkit.autograd.Autograd;
import org.attnkit.backend.Backend;
import org.attnkit.backend.Kernels;
import org.attnkit.tensor.Tensor;
import org.attnkit.util.Check;

/**
 * Cross-entropy of class logits against integer targets, fused log-softmax + negative log-likelihood.
 *
 * <p>Logits are {@code [..., C]} (rank >= 2, C >= 1), seen as {@code N = numel / C} rows of C classes;
 * {@code targets} holds one class per row in row-major order, so {@code targets.length} must be N.
 * Per row, {@code loss[n] = log(sum_c exp(logits[n,c])) - logits[n, targets[n]]} (the log-sum-exp is
 * max-subtracted). Rows whose target equals {@code ignoreIndex} contribute nothing and are not counted;
 * every other target must lie in {@code [0, C)}. The ignore index may itself be a class in [0, C)
 * (a padding id) or any other value (PyTorch's default is {@value #DEFAULT_IGNORE_INDEX}).
 *
 * <p>Reduction: {@link Reduction#MEAN} (the default) divides the sum by the number of counted rows;
 * when every row is ignored (or N = 0) the loss is 0 and the gradient is zero, where PyTorch gives NaN.
 * {@link Reduction#SUM} gives the sum; {@link Reduction#NONE} gives the per-row losses shaped like the
 * logits' leading dims, 0 on ignored rows. The loss has the dtype of the logits; only the logits get a
 * gradient.
 *
 * <p>Backward saves the per-row log-sum-exp {@code [N]} (not the softmax) and recomputes
 * {@code dlogits[n,c] = w[n] * (softmax[n,c] - [c == targets[n]])}, with w the upstream gradient of
 * row n divided by the count for MEAN.
 */
public final class CrossEntropy {
    /** PyTorch's default ignore index; never a valid class, so nothing is ignored by accident. */
    public static final int DEFAULT_IGNORE_INDEX = -100;

    static final Kernels<CrossEntropyKernels> KERNELS =
            Kernels.of("cross_entropy", (CrossEntropyKernels) new CrossEntropyRef())
                    .with(Backend.SIMD, new CrossEntropySimdKernels()).with(Backend.CUDA, new CrossEntropyCuda());

    private static final String OP = "cross_entropy";

    private CrossEntropy() {
    }

    /** Mean loss, ignoring targets equal to {@link #DEFAULT_IGNORE_INDEX}. */
    public static Tensor apply(Tensor logits, int[] targets) {
        return apply(logits, targets, DEFAULT_IGNORE_INDEX, Reduction.MEAN);
    }

    /** Mean loss over the rows whose target is not {@code ignoreIndex}. */
    public static Tensor apply(Tensor logits, int[] targets, int ignoreIndex) {
        return apply(logits, targets, ignoreIndex, Reduction.MEAN);
    }

    public static Tensor apply(Tensor logits, int[] targets, int ignoreIndex, Reduction reduction) {
        Check.notNull(OP, "logits", logits);
        if (logits.rank() < 2) {
            throw new IllegalArgumentException(OP + ": logits must have rank >= 2 [..., C], got rank " + logits.rank()
                    + " with shape " + logits.shape());
        }
        int classes = logits.dim(-1);
        if (classes < 1) {
            throw new IllegalArgumentException(OP + ": logits must have at least 1 class in the last dimension, got "
                    + classes + " in shape " + logits.shape());
        }
        if (targets == null) {
            throw new IllegalArgumentException(OP + ": targets must not be null");
        }
        if (reduction == null) {
            throw new IllegalArgumentException(OP + ": reduction must not be null");
        }
        int rows = logits.numel() / classes;
        if (targets.length != rows) {
            throw new IllegalArgumentException(OP + ": targets length must be " + rows + " (the number of rows of logits "
                    + logits.shape() + "), got " + targets.length);
        }
        for (int n = 0; n < rows; n++) {
            int t = targets[n];
            if (t != ignoreIndex && (t < 0 || t >= classes)) {
                throw new IllegalArgumentException(OP + ": targets[" + n + "] = " + t + " is out of range [0, " + classes
                        + ") and is not the ignore index " + ignoreIndex);
            }
        }
        // The kernels read the targets in backward: keep a private copy the caller cannot change.
        int[] tgt = targets.clone();
        CrossEntropyKernels k = KERNELS.select(logits);
        CrossEntropyKernels.Forward f = k.forward(logits, tgt, ignoreIndex, reduction);
        Tensor lse = f.logSumExp();
        return Autograd.record(OP, f.loss(),
                (dLoss, needs) -> new Tensor[] {k.backward(logits, lse, tgt, ignoreIndex, reduction, dLoss)}, logits);
    }
}
