package org.attnkit.ops.layernorm;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.attnkit.backend.CpuPool;
import org.attnkit.tensor.CpuScope;
import org.attnkit.tensor.Tensor;
import org.attnkit.backend.VectorMath;

/**
 * The SIMD backend of {@link LayerNorm} (float32), one row at a time in float32 vectors: forward takes
 * the mean and then the variance of the centred values (two passes, so the variance does not cancel),
 * and writes y in a third. Backward (SPEC 5.3) accumulates mean(g) and mean(g * xhat) in one pass and
 * writes dx in a second. Rows are split into fixed blocks by the shape; dgamma and dbeta are per-block
 * float partials added in double in block order, so the bits never depend on the thread count.
 */
final class LayerNormSimdKernels implements LayerNormKernels {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    private static final int TASK_ELEMENTS = 1 << 14;

    @Override
    public Forward forward(Tensor x, Tensor gamma, Tensor beta, double eps) {
        int d = x.dim(-1);
        int rows = d == 0 ? 0 : x.numel() / d;
        float[] xv = x.data();                                 // [rows, D]
        float[] gv = gamma == null ? null : gamma.data();      // [D]
        float[] bv = beta == null ? null : beta.data();        // [D]
        float[] y = CpuScope.outputArray(xv.length);           // [rows, D], every element written
        float[] mean = new float[rows];
        float[] rstd = new float[rows];
        int perTask = rowsPerTask(d);
        int vend = S.loopBound(d);
        CpuPool.parallelFor((rows + perTask - 1) / perTask, task -> {
            int r1 = Math.min(rows, (task + 1) * perTask);
            for (int r = task * perTask; r < r1; r++) {
                int base = r * d;
                FloatVector acc = FloatVector.zero(S);
                int j = 0;
                for (; j < vend; j += L) {
                    acc = acc.add(FloatVector.fromArray(S, xv, base + j));
                }
                float sum = VectorMath.sumLanes(acc);
                for (; j < d; j++) {
                    sum += xv[base + j];
                }
                float mu = sum / d;
                acc = FloatVector.zero(S);
                j = 0;
                for (; j < vend; j += L) {
                    FloatVector c = FloatVector.fromArray(S, xv, base + j).sub(mu);
                    acc = c.fma(c, acc);
                }
                float sq = VectorMath.sumLanes(acc);
                for (; j < d; j++) {
                    float c = xv[base + j] - mu;
                    sq += c * c;
                }
                float rs = (float) (1.0 / Math.sqrt((double) sq / d + eps));
                mean[r] = mu;
                rstd[r] = rs;
                j = 0;
                for (; j < vend; j += L) {
                    FloatVector v = FloatVector.fromArray(S, xv, base + j).sub(mu).mul(rs);
                    if (gv != null) {
                        v = v.mul(FloatVector.fromArray(S, gv, j));
                    }
                    if (bv != null) {
                        v = v.add(FloatVector.fromArray(S, bv, j));
                    }
                    v.intoArray(y, base + j);
                }
                for (; j < d; j++) {
                    float v = (xv[base + j] - mu) * rs;
                    if (gv != null) {
                        v *= gv[j];
                    }
                    if (bv != null) {
                        v += bv[j];
                    }
                    y[base + j] = v;
                }
            }
        });
        return new Forward(Tensor.wrap(y, x.shape().toArray()), Tensor.wrap(mean, rows), Tensor.wrap(rstd, rows));
    }

    @Override
    public Tensor[] backward(Tensor x, Tensor gamma, Tensor mean, Tensor rstd, Tensor dy, boolean[] needsGrad) {
        int d = x.dim(-1);
        int rows = d == 0 ? 0 : x.numel() / d;
        float[] xv = x.data();                                 // [rows, D]
        float[] gv = gamma == null ? null : gamma.data();      // [D]
        float[] mu = mean.data();                              // [rows]
        float[] rs = rstd.data();                              // [rows]
        float[] g = dy.data();                                 // [rows, D]
        boolean needX = needsGrad[0];
        boolean needGamma = needsGrad.length > 1 && needsGrad[1];
        boolean needBeta = needsGrad.length > 2 && needsGrad[2];
        float[] dx = needX ? CpuScope.outputArray(xv.length) : null; // every element written
        int perTask = rowsPerTask(d);
        int tasks = (rows + perTask - 1) / perTask;
        float[] dgammaParts = needGamma ? new float[tasks * d] : null; // [tasks, D]
        float[] dbetaParts = needBeta ? new float[tasks * d] : null;   // [tasks, D]
        int vend = S.loopBound(d);
        CpuPool.parallelFor(tasks, task -> {
            int r1 = Math.min(rows, (task + 1) * perTask);
            int part = task * d;
            for (int r = task * perTask; r < r1; r++) {
                int base = r * d;
                float m = mu[r];
                float s = rs[r];
                FloatVector accG = FloatVector.zero(S);
                FloatVector accGx = FloatVector.zero(S);
                int j = 0;
                for (; j < vend; j += L) {
                    FloatVector dyv = FloatVector.fromArray(S, g, base + j);
                    FloatVector xhat = FloatVector.fromArray(S, xv, base + j).sub(m).mul(s);
                    FloatVector ghat = gv == null ? dyv : dyv.mul(FloatVector.fromArray(S, gv, j));
                    accG = accG.add(ghat);
                    accGx = ghat.fma(xhat, accGx);
                    if (dgammaParts != null) {
                        dyv.fma(xhat, FloatVector.fromArray(S, dgammaParts, part + j)).intoArray(dgammaParts, part + j);
                    }
                    if (dbetaParts != null) {
                        dyv.add(FloatVector.fromArray(S, dbetaParts, part + j)).intoArray(dbetaParts, part + j);
                    }
                }
                float sumG = VectorMath.sumLanes(accG);
                float sumGx = VectorMath.sumLanes(accGx);
                for (; j < d; j++) {
                    float xhat = (xv[base + j] - m) * s;
                    float ghat = gv == null ? g[base + j] : gv[j] * g[base + j];
                    sumG += ghat;
                    sumGx += ghat * xhat;
                    if (dgammaParts != null) {
                        dgammaParts[part + j] += g[base + j] * xhat;
                    }
                    if (dbetaParts != null) {
                        dbetaParts[part + j] += g[base + j];
                    }
                }
                if (dx == null) {
                    continue;
                }
                float meanG = sumG / d;
                float meanGx = sumGx / d;
                j = 0;
                for (; j < vend; j += L) {
                    FloatVector dyv = FloatVector.fromArray(S, g, base + j);
                    FloatVector xhat = FloatVector.fromArray(S, xv, base + j).sub(m).mul(s);
                    FloatVector ghat = gv == null ? dyv : dyv.mul(FloatVector.fromArray(S, gv, j));
                    // rs * (ghat - meanG - xhat * meanGx)
                    xhat.mul(-meanGx).add(ghat).sub(meanG).mul(s).intoArray(dx, base + j);
                }
                for (; j < d; j++) {
                    float xhat = (xv[base + j] - m) * s;
                    float ghat = gv == null ? g[base + j] : gv[j] * g[base + j];
                    dx[base + j] = s * (ghat - meanG - xhat * meanGx);
                }
            }
        });
        return new Tensor[] {
            dx == null ? null : Tensor.wrap(dx, x.shape().toArray()),
            needGamma ? Tensor.wrap(reduceParts(dgammaParts, tasks, d), d) : null,
            needBeta ? Tensor.wrap(reduceParts(dbetaParts, tasks, d), d) : null
        };
    }

    private static int rowsPerTask(int d) {
        return Math.max(1, TASK_ELEMENTS / Math.max(1, d));
    }

    /** The per-task partials [tasks, D] summed in double, in task order. */
    private static float[] reduceParts(float[] parts, int tasks, int d) {
        double[] acc = new double[d];
        for (int t = 0; t < tasks; t++) {
            for (int j = 0; j < d; j++) {
                acc[j] += parts[t * d + j];
            }
        }
        float[] out = new float[d];
        for (int j = 0; j < d; j++) {
            out[j] = (float) acc[j];
        }
        return out;
    }
}
