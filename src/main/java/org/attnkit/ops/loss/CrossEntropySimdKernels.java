package org.attnkit.ops.loss;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.attnkit.backend.CpuPool;
import org.attnkit.tensor.Tensor;
import org.attnkit.backend.VectorMath;

/**
 * The SIMD backend of {@link CrossEntropy} (float32), fused per row: a vector max pass and a
 * lanewise EXP pass with a float32 vector sum give the log-sum-exp, and the row's loss is formed in
 * double from it. Rows are split into fixed blocks by the shape; the per-row losses are summed in
 * double in row order, so the bits never depend on the thread count. Backward writes
 * {@code w * exp(x - lse)} per row in one vector pass and subtracts w at the target.
 */
final class CrossEntropySimdKernels implements CrossEntropyKernels {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    private static final int TASK_ELEMENTS = 1 << 14;

    @Override
    public Forward forward(Tensor logits, int[] targets, int ignoreIndex, Reduction reduction) {
        int classes = logits.dim(-1);
        int rows = targets.length;
        float[] x = logits.data();          // [N, C]
        float[] lse = new float[rows];       // [N]
        double[] perRow = new double[rows];  // [N], 0 where ignored
        int perTask = Math.max(1, TASK_ELEMENTS / classes);
        CpuPool.parallelFor((rows + perTask - 1) / perTask, task -> {
            int r1 = Math.min(rows, (task + 1) * perTask);
            for (int n = task * perTask; n < r1; n++) {
                int base = n * classes;
                float max = VectorMath.max(x, base, classes);
                double logSumExp = max + Math.log(VectorMath.sumExp(x, base, classes, max));
                lse[n] = (float) logSumExp;
                if (targets[n] != ignoreIndex) {
                    perRow[n] = logSumExp - x[base + targets[n]];
                }
            }
        });
        double sum = 0;
        int count = 0;
        for (int n = 0; n < rows; n++) {
            if (targets[n] != ignoreIndex) {
                sum += perRow[n];
                count++;
            }
        }
        Tensor lseTensor = Tensor.wrap(lse, rows);
        Tensor loss = switch (reduction) {
            case NONE -> Tensor.fromDoubles(perRow, logits.dtype(), leadingShape(logits));
            case SUM -> Tensor.fromDoubles(new double[] {sum}, logits.dtype());
            // As the reference: the mean over no counted rows is 0.
            case MEAN -> Tensor.fromDoubles(new double[] {count == 0 ? 0 : sum / count}, logits.dtype());
        };
        return new Forward(loss, lseTensor);
    }

    @Override
    public Tensor backward(Tensor logits, Tensor logSumExp, int[] targets, int ignoreIndex, Reduction reduction,
            Tensor dLoss) {
        int classes = logits.dim(-1);
        int rows = targets.length;
        float[] x = logits.data();
        float[] lse = logSumExp.data();
        float[] g = dLoss.data();
        int count = 0;
        for (int t : targets) {
            count += t != ignoreIndex ? 1 : 0;
        }
        int counted = count;
        float[] dx = new float[x.length]; // [N, C]; ignored rows stay 0
        int perTask = Math.max(1, TASK_ELEMENTS / classes);
        CpuPool.parallelFor((rows + perTask - 1) / perTask, task -> {
            int r1 = Math.min(rows, (task + 1) * perTask);
            for (int n = task * perTask; n < r1; n++) {
                if (targets[n] == ignoreIndex) {
                    continue;
                }
                float w = switch (reduction) {
                    case NONE -> g[n];
                    case SUM -> g[0];
                    case MEAN -> (float) ((double) g[0] / counted);
                };
                int base = n * classes;
                float shift = lse[n];
                int c = 0;
                for (int end = S.loopBound(classes); c < end; c += L) {
                    VectorMath.exp(FloatVector.fromArray(S, x, base + c).sub(shift)).mul(w)
                            .intoArray(dx, base + c);
                }
                for (; c < classes; c++) {
                    dx[base + c] = w * (float) Math.exp(x[base + c] - shift);
                }
                dx[base + targets[n]] -= w;
            }
        });
        return Tensor.wrap(dx, logits.shape().toArray());
    }

    private static int[] leadingShape(Tensor logits) {
        int[] shape = logits.shape().toArray();
        return Arrays.copyOf(shape, shape.length - 1);
    }
}
