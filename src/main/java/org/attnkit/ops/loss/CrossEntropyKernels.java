package org.attnkit.ops.loss;

import org.attnkit.tensor.Tensor;

/**
 * What every backend implements for {@link CrossEntropy}. Logits are {@code [..., C]} with
 * {@code N = numel / C} rows; targets hold N class indices already checked to be in [0, C) or the
 * ignore index.
 */
public interface CrossEntropyKernels {
    /** The loss and what backward needs from the forward pass. */
    record Forward(Tensor loss, Tensor logSumExp) {
    }

    /**
     * loss[n] = logSumExp[n] - logits[n, targets[n]] (0 where ignored), reduced as asked: shape
     * {@code [...]} (the logits' leading dims) for NONE, rank 0 otherwise. {@code logSumExp} is
     * {@code [N]}, saved for backward.
     */
    Forward forward(Tensor logits, int[] targets, int ignoreIndex, Reduction reduction);

    /**
     * dlogits[n, c] = w[n] * (exp(logits[n, c] - logSumExp[n]) - [c == targets[n]]), with
     * w[n] = dLoss[n] for NONE, dLoss for SUM, dLoss / count for MEAN, and 0 on ignored rows.
     */
    Tensor backward(Tensor logits, Tensor logSumExp, int[] targets, int ignoreIndex, Reduction reduction,
            Tensor dLoss);
}
