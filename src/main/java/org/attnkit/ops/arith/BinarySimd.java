package org.attnkit.ops.arith;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.attnkit.backend.CpuPool;
import org.attnkit.tensor.CpuScope;

/**
 * Vector API broadcasting elementwise kernels on raw float32 arrays.
 *
 * <p>The output dimensions are first merged wherever both operands are laid out contiguously across
 * the pair (or broadcast along both): equal shapes become one flat dimension, a bias {@code [C]} onto
 * {@code [N, C]} becomes rows of C with the bias repeated, {@code [N, 1]} onto {@code [N, C]} becomes
 * rows with one value per row. The output is then walked one innermost row at a time, where each
 * operand is either contiguous (stride 1) or one repeated value (stride 0), and any broadcast pattern
 * runs through the same vector loops. Work is split into fixed chunks of {@value #CHUNK} output
 * elements; every element is computed independently, so the bits never depend on the thread count.
 */
final class BinarySimd {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    private static final int CHUNK = 1 << 14;

    static final int ADD = 0;
    static final int SUB = 1;
    static final int MUL = 2;
    static final int DIV = 3;

    private BinarySimd() {
    }

    /** c = a op b with NumPy broadcasting onto {@code outShape}. */
    static float[] apply(int op, float[] a, int[] aShape, float[] b, int[] bShape, int[] outShape) {
        int rank = outShape.length;
        int[] as = strides(aShape, outShape);
        int[] bs = strides(bShape, outShape);
        // Merge dims (from the innermost outwards) where both operands continue contiguously.
        int[] size = new int[rank];
        int[] sa = new int[rank];
        int[] sb = new int[rank];
        int m = 0;
        int n = 1;
        for (int d = rank - 1; d >= 0; d--) {
            n *= outShape[d];
            if (outShape[d] == 1) {
                continue;
            }
            if (m > 0 && as[d] == sa[m - 1] * size[m - 1] && bs[d] == sb[m - 1] * size[m - 1]) {
                size[m - 1] *= outShape[d];
                continue;
            }
            size[m] = outShape[d];
            sa[m] = as[d];
            sb[m] = bs[d];
            m++;
        }
        int total = n;
        float[] c = CpuScope.outputArray(total); // every element written
        if (total == 0) {
            return c;
        }
        // Merged dims, innermost first: size[0] is the row length.
        int len = m == 0 ? 1 : size[0];
        int aInner = m == 0 ? 0 : sa[0];
        int bInner = m == 0 ? 0 : sb[0];
        int dims = m;
        CpuPool.parallelFor((total + CHUNK - 1) / CHUNK, task -> {
            int pos = task * CHUNK;
            int end = Math.min(total, pos + CHUNK);
            while (pos < end) {
                int row = pos / len;
                int col = pos - row * len;
                int segEnd = Math.min(end, (row + 1) * len);
                int ao = col * aInner;
                int bo = col * bInner;
                for (int d = 1, rem = row; d < dims; d++) {
                    int coord = rem % size[d];
                    rem /= size[d];
                    ao += coord * sa[d];
                    bo += coord * sb[d];
                }
                segment(op, a, ao, aInner, b, bo, bInner, c, pos, segEnd - pos);
                pos = segEnd;
            }
        });
        return c;
    }

    /** Element strides of an input broadcast onto outShape: 0 along broadcast (size-1 or missing) dims. */
    private static int[] strides(int[] inShape, int[] outShape) {
        int rank = outShape.length;
        int offset = rank - inShape.length;
        int[] s = new int[rank];
        int acc = 1;
        for (int d = rank - 1; d >= offset; d--) {
            int size = inShape[d - offset];
            s[d] = size == 1 ? 0 : acc;
            acc *= size;
        }
        return s;
    }

    /** c[co + j] = a[ao + j*aStep] op b[bo + j*bStep] for j < count, with steps 0 or 1. */
    private static void segment(int op, float[] a, int ao, int aStep, float[] b, int bo, int bStep, float[] c,
                                int co, int count) {
        int j = 0;
        int vend = S.loopBound(count);
        if (aStep == 1 && bStep == 1) {
            for (; j < vend; j += L) {
                FloatVector av = FloatVector.fromArray(S, a, ao + j);
                apply(op, av, FloatVector.fromArray(S, b, bo + j)).intoArray(c, co + j);
            }
        } else if (aStep == 1) {
            FloatVector bv = FloatVector.broadcast(S, b[bo]);
            for (; j < vend; j += L) {
                apply(op, FloatVector.fromArray(S, a, ao + j), bv).intoArray(c, co + j);
            }
        } else if (bStep == 1) {
            FloatVector av = FloatVector.broadcast(S, a[ao]);
            for (; j < vend; j += L) {
                apply(op, av, FloatVector.fromArray(S, b, bo + j)).intoArray(c, co + j);
            }
        } else {
            float v = apply(op, a[ao], b[bo]);
            for (; j < count; j++) {
                c[co + j] = v;
            }
        }
        for (; j < count; j++) {
            c[co + j] = apply(op, a[ao + j * aStep], b[bo + j * bStep]);
        }
    }

    private static FloatVector apply(int op, FloatVector x, FloatVector y) {
        switch (op) {
            case ADD:
                return x.add(y);
            case SUB:
                return x.sub(y);
            case MUL:
                return x.mul(y);
            default:
                return x.div(y);
        }
    }

    private static float apply(int op, float x, float y) {
        switch (op) {
            case ADD:
                return x + y;
            case SUB:
                return x - y;
            case MUL:
                return x * y;
            default:
                return x / y;
        }
    }

    /** -v, elementwise, in place. */
    static float[] negate(float[] v) {
        CpuPool.parallelFor((v.length + CHUNK - 1) / CHUNK, task -> {
            int from = task * CHUNK;
            int to = Math.min(v.length, from + CHUNK);
            int i = from;
            for (int end = from + S.loopBound(to - from); i < end; i += L) {
                FloatVector.fromArray(S, v, i).neg().intoArray(v, i);
            }
            for (; i < to; i++) {
                v[i] = -v[i];
            }
        });
        return v;
    }
}
