package org.attnkit.ops.glu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.attnkit.backend.CpuPool;
import org.attnkit.tensor.CpuScope;
import org.attnkit.tensor.Shape;
import org.attnkit.tensor.Tensor;
import org.attnkit.backend.VectorMath;

/**
 * The SIMD backend of {@link Glu} (float32). Seen as {@code [outer, 2, m]} with m = half * inner, the
 * halves a and g of each outer index are two contiguous runs of m elements, so any axis is one
 * streaming loop over matching positions of a, g and y. The output is split into fixed chunks of
 * {@value #CHUNK} elements; each element is computed independently of the partition.
 */
final class GluSimdKernels implements GluKernels {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    private static final int CHUNK = 1 << 14;

    @Override
    public Tensor forward(Tensor x, int axis) {
        int[] shape = x.shape().toArray();
        int m = half(shape, axis);
        float[] xv = x.data();                 // [outer, 2, m]
        float[] y = CpuScope.outputArray(xv.length / 2);  // [outer, m], every element written
        chunks(y.length, m, (o, j0, j1) -> {
            int a = o * 2 * m;
            int g = a + m;
            int yo = o * m;
            int j = j0;
            for (int end = j0 + S.loopBound(j1 - j0); j < end; j += L) {
                FloatVector av = FloatVector.fromArray(S, xv, a + j);
                av.mul(sigmoid(FloatVector.fromArray(S, xv, g + j))).intoArray(y, yo + j);
            }
            for (; j < j1; j++) {
                y[yo + j] = xv[a + j] * sigmoid(xv[g + j]);
            }
        });
        shape[axis] /= 2;
        return Tensor.wrap(y, shape);
    }

    @Override
    public Tensor backward(Tensor x, int axis, Tensor dy) {
        int[] shape = x.shape().toArray();
        int m = half(shape, axis);
        float[] xv = x.data();               // [outer, 2, m]
        float[] gv = dy.data();              // [outer, m]
        float[] dx = CpuScope.outputArray(xv.length);   // [outer, 2, m], every element written
        chunks(gv.length, m, (o, j0, j1) -> {
            int a = o * 2 * m;
            int g = a + m;
            int yo = o * m;
            int j = j0;
            for (int end = j0 + S.loopBound(j1 - j0); j < end; j += L) {
                FloatVector gate = FloatVector.fromArray(S, xv, g + j);
                FloatVector e = VectorMath.exp(gate.abs().neg());
                FloatVector r = FloatVector.broadcast(S, 1f).div(e.add(1f));
                // s = sigmoid(g) and 1 - s = sigmoid(-g), each formed without cancellation.
                VectorMask<Float> negative = gate.lt(0f);
                FloatVector s = r.blend(e.mul(r), negative);
                FloatVector oneMinusS = e.mul(r).blend(r, negative);
                FloatVector da = FloatVector.fromArray(S, gv, yo + j).mul(s);
                da.intoArray(dx, a + j);
                // dg = dy * a * s * (1 - s) = da * a * (1 - s)
                da.mul(FloatVector.fromArray(S, xv, a + j)).mul(oneMinusS).intoArray(dx, g + j);
            }
            for (; j < j1; j++) {
                float s = sigmoid(xv[g + j]);
                float da = gv[yo + j] * s;
                dx[a + j] = da;
                dx[g + j] = da * xv[a + j] * sigmoid(-xv[g + j]);
            }
        });
        return Tensor.wrap(dx, shape);
    }

    /** m = half * inner for the axis. */
    private static int half(int[] shape, int axis) {
        return shape[axis] / 2 * Shape.of(shape).numel(axis + 1, shape.length);
    }

    private interface Segment {
        void run(int outer, int from, int to);
    }

    /** Calls body on the (outer index, [from, to) within its m outputs) segments of fixed chunks. */
    private static void chunks(int n, int m, Segment body) {
        CpuPool.parallelFor((n + CHUNK - 1) / CHUNK, task -> {
            int pos = task * CHUNK;
            int end = Math.min(n, pos + CHUNK);
            while (pos < end) {
                int o = pos / m;
                int segEnd = Math.min(end, (o + 1) * m);
                body.run(o, pos - o * m, segEnd - o * m);
                pos = segEnd;
            }
        });
    }

    /** 1 / (1 + exp(-x)), with exp taken of -|x| only so it cannot overflow. */
    private static FloatVector sigmoid(FloatVector x) {
        FloatVector e = VectorMath.exp(x.abs().neg());
        FloatVector r = FloatVector.broadcast(S, 1f).div(e.add(1f));
        return r.blend(e.mul(r), x.lt(0f));
    }

    private static float sigmoid(float x) {
        float e = (float) Math.exp(-Math.abs(x));
        float r = 1f / (1f + e);
        return x < 0 ? e * r : r;
    }
}
