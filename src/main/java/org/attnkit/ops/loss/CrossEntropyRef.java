package org.attnkit.ops.loss;

import java.util.Arrays;
import org.attnkit.tensor.Tensor;

/** Scalar reference of {@link CrossEntropy}, in double. */
final class CrossEntropyRef implements CrossEntropyKernels {
    @Override
    public Forward forward(Tensor logits, int[] targets, int ignoreIndex, Reduction reduction) {
        int classes = logits.dim(-1);
        int rows = targets.length;
        double[] x = logits.toDoubleArray(); // [N, C]
        double[] lse = new double[rows];     // [N]
        double[] perRow = new double[rows];  // [N]
        double sum = 0;
        int count = 0;
        for (int n = 0; n < rows; n++) {
            int base = n * classes;
            double max = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < classes; c++) {
                max = Math.max(max, x[base + c]);
            }
            double s = 0;
            for (int c = 0; c < classes; c++) {
                s += Math.exp(x[base + c] - max);
            }
            lse[n] = max + Math.log(s);
            if (targets[n] != ignoreIndex) {
                perRow[n] = lse[n] - x[base + targets[n]];
                sum += perRow[n];
                count++;
            }
        }
        Tensor lseTensor = Tensor.fromDoubles(lse, logits.dtype(), rows);
        Tensor loss = switch (reduction) {
            case NONE -> Tensor.fromDoubles(perRow, logits.dtype(), leadingShape(logits));
            case SUM -> Tensor.fromDoubles(new double[] {sum}, logits.dtype());
            // No counted rows: the mean of nothing is taken as 0 (PyTorch gives NaN), so a fully
            // padded batch neither poisons a running loss nor sends a gradient.
            case MEAN -> Tensor.fromDoubles(new double[] {count == 0 ? 0 : sum / count}, logits.dtype());
        };
        return new Forward(loss, lseTensor);
    }

    @Override
    public Tensor backward(Tensor logits, Tensor logSumExp, int[] targets, int ignoreIndex, Reduction reduction,
            Tensor dLoss) {
        int classes = logits.dim(-1);
        int rows = targets.length;
        double[] x = logits.toDoubleArray();  // [N, C]
        double[] lse = logSumExp.toDoubleArray();
        double[] g = dLoss.toDoubleArray();   // [N] for NONE, one value otherwise
        int count = 0;
        for (int t : targets) {
            count += t != ignoreIndex ? 1 : 0;
        }
        double[] dx = new double[x.length];   // [N, C]
        for (int n = 0; n < rows; n++) {
            if (targets[n] == ignoreIndex) {
                continue;
            }
            double w = switch (reduction) {
                case NONE -> g[n];
                case SUM -> g[0];
                case MEAN -> g[0] / count;
            };
            int base = n * classes;
            for (int c = 0; c < classes; c++) {
                dx[base + c] = w * Math.exp(x[base + c] - lse[n]);
            }
            dx[base + targets[n]] -= w;
        }
        return Tensor.fromDoubles(dx, logits.dtype(), logits.shape().toArray());
    }

    private static int[] leadingShape(Tensor logits) {
        int[] shape = logits.shape().toArray();
        return Arrays.copyOf(shape, shape.length - 1);
    }
}
