package org.attnkit.ops.softmax;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.attnkit.backend.CpuPool;
import org.attnkit.tensor.CpuScope;
import org.attnkit.tensor.Tensor;
import org.attnkit.backend.VectorMath;

/**
 * The SIMD backend of {@link Softmax} and {@link LogSoftmax} (float32). A tensor is viewed as
 * {@code [outer, n, inner]} around the axis. The last axis (inner = 1) runs along contiguous rows:
 * a vector max pass, then VectorMath.exp of the max-subtracted values with a float32 vector sum. Any
 * other axis vectorizes across the contiguous inner positions instead, each lane carrying the running
 * max and sum of its own line, so both layouts stream memory in order. Work is split by rows (last
 * axis) or by (outer, block of {@value #COLS} inner positions), a partition of the shape alone; each
 * line is computed by one task in a fixed order, so the bits never depend on the thread count.
 */
final class SoftmaxSimdKernels implements SoftmaxKernels {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    private static final int COLS = 256;
    private static final int TASK_ELEMENTS = 1 << 14;

    private static final int SOFTMAX = 0;
    private static final int LOG_SOFTMAX = 1;
    private static final int SOFTMAX_BACKWARD = 2;
    private static final int LOG_SOFTMAX_BACKWARD = 3;

    @Override
    public Tensor softmax(Tensor x, int axis) {
        return run(SOFTMAX, x.data(), null, x, axis);
    }

    @Override
    public Tensor softmaxBackward(Tensor y, Tensor dy, int axis) {
        return run(SOFTMAX_BACKWARD, y.data(), dy.data(), dy, axis);
    }

    @Override
    public Tensor logSoftmax(Tensor x, int axis) {
        return run(LOG_SOFTMAX, x.data(), null, x, axis);
    }

    @Override
    public Tensor logSoftmaxBackward(Tensor y, Tensor dy, int axis) {
        return run(LOG_SOFTMAX_BACKWARD, y.data(), dy.data(), dy, axis);
    }

    /** One of the four kernels over every line; {@code g} is dy for the backward kernels. */
    private static Tensor run(int kind, float[] v, float[] g, Tensor like, int axis) {
        int[] shape = like.shape().toArray();
        int outer = like.shape().numel(0, axis);
        int inner = like.shape().numel(axis + 1, shape.length);
        int n = shape[axis];
        float[] out = CpuScope.outputArray(v.length); // every element written
        if (v.length == 0) {
            return Tensor.wrap(out, shape);
        }
        if (inner == 1) {
            int rows = outer;
            int perTask = Math.max(1, TASK_ELEMENTS / n);
            CpuPool.parallelFor((rows + perTask - 1) / perTask, task -> {
                int r1 = Math.min(rows, (task + 1) * perTask);
                for (int r = task * perTask; r < r1; r++) {
                    row(kind, v, g, out, r * n, n);
                }
            });
        } else {
            int in = inner;
            int blocks = (inner + COLS - 1) / COLS;
            CpuPool.parallelFor(outer * blocks, task -> {
                int o = task / blocks;
                int i0 = (task % blocks) * COLS;
                columns(kind, v, g, out, o * n * in, n, in, i0, Math.min(in, i0 + COLS));
            });
        }
        return Tensor.wrap(out, shape);
    }

    // ------------------------------------------------------------------ last axis: contiguous rows

    private static void row(int kind, float[] v, float[] g, float[] out, int base, int n) {
        switch (kind) {
            case SOFTMAX -> softmaxRow(v, out, base, n);
            case LOG_SOFTMAX -> logSoftmaxRow(v, out, base, n);
            case SOFTMAX_BACKWARD -> softmaxBackwardRow(v, g, out, base, n);
            default -> logSoftmaxBackwardRow(v, g, out, base, n);
        }
    }

    private static void softmaxRow(float[] x, float[] y, int base, int n) {
        float max = VectorMath.max(x, base, n);
        int vend = S.loopBound(n);
        FloatVector sum = FloatVector.zero(S);
        int j = 0;
        for (; j < vend; j += L) {
            FloatVector e = VectorMath.exp(FloatVector.fromArray(S, x, base + j).sub(max));
            e.intoArray(y, base + j);
            sum = sum.add(e);
        }
        float s = VectorMath.sumLanes(sum);
        for (; j < n; j++) {
            float e = VectorMath.exp(x[base + j] - max);
            y[base + j] = e;
            s += e;
        }
        float inv = 1f / s;
        j = 0;
        for (; j < vend; j += L) {
            FloatVector.fromArray(S, y, base + j).mul(inv).intoArray(y, base + j);
        }
        for (; j < n; j++) {
            y[base + j] *= inv;
        }
    }

    private static void logSoftmaxRow(float[] x, float[] y, int base, int n) {
        float max = VectorMath.max(x, base, n);
        float s = VectorMath.sumExp(x, base, n, max);
        // (x - max) - log(sum): the shifted value is exact or nearly so and log(sum) is small, where
        // x - (max + log(sum)) would round max + log(sum) at the scale of |max|.
        float logSum = (float) Math.log(s);
        int vend = S.loopBound(n);
        int j = 0;
        for (; j < vend; j += L) {
            FloatVector.fromArray(S, x, base + j).sub(max).sub(logSum).intoArray(y, base + j);
        }
        for (; j < n; j++) {
            y[base + j] = (x[base + j] - max) - logSum;
        }
    }

    private static void softmaxBackwardRow(float[] y, float[] g, float[] dx, int base, int n) {
        int vend = S.loopBound(n);
        FloatVector acc = FloatVector.zero(S);
        int j = 0;
        for (; j < vend; j += L) {
            acc = FloatVector.fromArray(S, g, base + j).fma(FloatVector.fromArray(S, y, base + j), acc);
        }
        float dot = VectorMath.sumLanes(acc);
        for (; j < n; j++) {
            dot += g[base + j] * y[base + j];
        }
        j = 0;
        for (; j < vend; j += L) {
            FloatVector yv = FloatVector.fromArray(S, y, base + j);
            yv.mul(FloatVector.fromArray(S, g, base + j).sub(dot)).intoArray(dx, base + j);
        }
        for (; j < n; j++) {
            dx[base + j] = y[base + j] * (g[base + j] - dot);
        }
    }

    private static void logSoftmaxBackwardRow(float[] y, float[] g, float[] dx, int base, int n) {
        int vend = S.loopBound(n);
        FloatVector acc = FloatVector.zero(S);
        int j = 0;
        for (; j < vend; j += L) {
            acc = acc.add(FloatVector.fromArray(S, g, base + j));
        }
        float sum = VectorMath.sumLanes(acc);
        for (; j < n; j++) {
            sum += g[base + j];
        }
        FloatVector negSum = FloatVector.broadcast(S, -sum);
        j = 0;
        for (; j < vend; j += L) {
            FloatVector p = VectorMath.exp(FloatVector.fromArray(S, y, base + j));
            p.fma(negSum, FloatVector.fromArray(S, g, base + j)).intoArray(dx, base + j);
        }
        for (; j < n; j++) {
            dx[base + j] = g[base + j] - (float) Math.exp(y[base + j]) * sum;
        }
    }

    // ------------------------------------------------------------------ other axes: lanes across inner

    /**
     * Lines i0 <= i < i1 of the [n, inner] block at {@code base}: element j of line i sits at
     * base + j*inner + i. Full vectors of lines first, then the remaining lines one by one.
     */
    private static void columns(int kind, float[] v, float[] g, float[] out, int base, int n, int inner, int i0,
                                int i1) {
        int i = i0;
        for (; i + L <= i1; i += L) {
            columnVector(kind, v, g, out, base + i, n, inner);
        }
        for (; i < i1; i++) {
            columnScalar(kind, v, g, out, base + i, n, inner);
        }
    }

    private static void columnVector(int kind, float[] v, float[] g, float[] out, int at, int n, int inner) {
        switch (kind) {
            case SOFTMAX, LOG_SOFTMAX -> {
                FloatVector max = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
                for (int j = 0, p = at; j < n; j++, p += inner) {
                    max = max.max(FloatVector.fromArray(S, v, p));
                }
                FloatVector sum = FloatVector.zero(S);
                for (int j = 0, p = at; j < n; j++, p += inner) {
                    FloatVector e = VectorMath.exp(FloatVector.fromArray(S, v, p).sub(max));
                    if (kind == SOFTMAX) {
                        e.intoArray(out, p);
                    }
                    sum = sum.add(e);
                }
                if (kind == SOFTMAX) {
                    FloatVector inv = FloatVector.broadcast(S, 1f).div(sum);
                    for (int j = 0, p = at; j < n; j++, p += inner) {
                        FloatVector.fromArray(S, out, p).mul(inv).intoArray(out, p);
                    }
                } else {
                    // Math.log lane by lane, as the scalar lines do: lanewise(LOG) may run as a vendor
                    // intrinsic once compiled and as Math.log before, so its bits could differ cold and warm.
                    float[] lanes = sum.toArray();
                    for (int l = 0; l < L; l++) {
                        lanes[l] = (float) Math.log(lanes[l]);
                    }
                    FloatVector logSum = FloatVector.fromArray(S, lanes, 0);
                    for (int j = 0, p = at; j < n; j++, p += inner) {
                        FloatVector.fromArray(S, v, p).sub(max).sub(logSum).intoArray(out, p);
                    }
                }
            }
            case SOFTMAX_BACKWARD -> {
                FloatVector dot = FloatVector.zero(S);
                for (int j = 0, p = at; j < n; j++, p += inner) {
                    dot = FloatVector.fromArray(S, g, p).fma(FloatVector.fromArray(S, v, p), dot);
                }
                for (int j = 0, p = at; j < n; j++, p += inner) {
                    FloatVector.fromArray(S, v, p).mul(FloatVector.fromArray(S, g, p).sub(dot)).intoArray(out, p);
                }
            }
            default -> {
                FloatVector sum = FloatVector.zero(S);
                for (int j = 0, p = at; j < n; j++, p += inner) {
                    sum = sum.add(FloatVector.fromArray(S, g, p));
                }
                FloatVector negSum = sum.neg();
                for (int j = 0, p = at; j < n; j++, p += inner) {
                    FloatVector e = VectorMath.exp(FloatVector.fromArray(S, v, p));
                    e.fma(negSum, FloatVector.fromArray(S, g, p)).intoArray(out, p);
                }
            }
        }
    }

    private static void columnScalar(int kind, float[] v, float[] g, float[] out, int at, int n, int inner) {
        switch (kind) {
            case SOFTMAX, LOG_SOFTMAX -> {
                float max = Float.NEGATIVE_INFINITY;
                for (int j = 0, p = at; j < n; j++, p += inner) {
                    max = Math.max(max, v[p]);
                }
                float sum = 0;
                for (int j = 0, p = at; j < n; j++, p += inner) {
                    float e = (float) Math.exp(v[p] - max);
                    if (kind == SOFTMAX) {
                        out[p] = e;
                    }
                    sum += e;
                }
                if (kind == SOFTMAX) {
                    float inv = 1f / sum;
                    for (int j = 0, p = at; j < n; j++, p += inner) {
                        out[p] *= inv;
                    }
                } else {
                    float logSum = (float) Math.log(sum);
                    for (int j = 0, p = at; j < n; j++, p += inner) {
                        out[p] = (v[p] - max) - logSum;
                    }
                }
            }
            case SOFTMAX_BACKWARD -> {
                float dot = 0;
                for (int j = 0, p = at; j < n; j++, p += inner) {
                    dot += g[p] * v[p];
                }
                for (int j = 0, p = at; j < n; j++, p += inner) {
                    out[p] = v[p] * (g[p] - dot);
                }
            }
            default -> {
                float sum = 0;
                for (int j = 0, p = at; j < n; j++, p += inner) {
                    sum += g[p];
                }
                for (int j = 0, p = at; j < n; j++, p += inner) {
                    out[p] = g[p] - (float) Math.exp(v[p]) * sum;
                }
            }
        }
    }
}
