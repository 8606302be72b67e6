package org.attnkit.ops.reduce;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.attnkit.backend.CpuPool;
import org.attnkit.backend.VectorMath;

/**
 * Vector API sums of a contiguous float32 array over a set of its dimensions, shared by the SIMD
 * {@link Sum}/{@link Mean} and by the backward of the broadcasting elementwise operators.
 *
 * <p>Adjacent dimensions that are both reduced or both kept are merged first, so any reduction is a
 * sequence of two primitives: a last-dim (row) sum when the innermost dimension is reduced, and a
 * leading-dim (column) sum {@code [outer, R, K] -> [outer, K]} otherwise. Each primitive splits its work
 * by the shape only: rows sum in float vector chunks of {@value #ROW_CHUNK} elements added in double,
 * columns in float blocks of {@value #COL_BLOCK} rows added in double in block order. The result bits
 * never depend on the thread count.
 */
public final class ReduceSimd {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    private static final int ROW_CHUNK = 4096;
    private static final int COL_BLOCK = 128;
    private static final int ROWS_PER_TASK_ELEMENTS = 1 << 15;

    private ReduceSimd() {
    }

    /**
     * The sums of x (shaped {@code shape}, row-major) over the dims marked in {@code reduced}, times
     * {@code scale}, laid out row-major over the kept dims. x is not modified.
     */
    public static float[] sum(float[] x, int[] shape, boolean[] reduced, float scale) {
        List<Integer> sizes = new ArrayList<>();
        List<Boolean> flags = new ArrayList<>();
        for (int d = 0; d < shape.length; d++) {
            if (shape[d] == 1) {
                continue; // size-1 dims change nothing, reduced or not
            }
            int last = sizes.size() - 1;
            if (last >= 0 && flags.get(last) == reduced[d]) {
                sizes.set(last, sizes.get(last) * shape[d]);
            } else {
                sizes.add(shape[d]);
                flags.add(reduced[d]);
            }
        }
        int n = x.length;
        float[] cur = x;
        while (true) {
            int k = flags.size() - 1;
            if (n == 0) {
                int out = 1;
                for (int i = 0; i < sizes.size(); i++) {
                    out *= flags.get(i) ? 1 : sizes.get(i);
                }
                float[] zeros = new float[out];
                // An empty sum scaled by the mean's 1/0 is NaN, as in the reference.
                Arrays.fill(zeros, 0f * scale);
                return zeros;
            }
            if (k < 0 || (k == 0 && !flags.get(0))) {
                break; // nothing left to reduce
            }
            if (flags.get(k)) {
                int len = sizes.get(k);
                cur = rowSums(cur, n / len, len);
                n /= len;
                sizes.remove(k);
                flags.remove(k);
            } else {
                int kept = sizes.get(k);
                int r = sizes.get(k - 1);
                int outer = n / (kept * r);
                cur = columnSums(cur, outer, r, kept);
                n /= r;
                sizes.remove(k - 1);
                flags.remove(k - 1);
                // The kept dims on both sides of the removed one are now adjacent.
                if (k - 2 >= 0 && !flags.get(k - 2)) {
                    sizes.set(k - 2, sizes.get(k - 2) * sizes.get(k - 1));
                    sizes.remove(k - 1);
                    flags.remove(k - 1);
                }
            }
        }
        float[] out = cur == x ? x.clone() : cur;
        if (scale != 1f) {
            scaleInPlace(out, scale);
        }
        return out;
    }

    /** out[r] = sum_j x[r*len + j], for r < rows. */
    static float[] rowSums(float[] x, int rows, int len) {
        float[] out = new float[rows];
        if (rows == 1 && len > 4 * ROW_CHUNK) {
            // One long row (a full reduction): the same chunks as rowSum, summed in parallel.
            int chunks = (len + ROW_CHUNK - 1) / ROW_CHUNK;
            double[] parts = new double[chunks];
            CpuPool.parallelFor(chunks,
                    c -> parts[c] = rowSum(x, c * ROW_CHUNK, Math.min(ROW_CHUNK, len - c * ROW_CHUNK)));
            double total = 0;
            for (double p : parts) {
                total += p;
            }
            out[0] = (float) total;
            return out;
        }
        int perTask = Math.max(1, ROWS_PER_TASK_ELEMENTS / Math.max(1, len));
        int tasks = (rows + perTask - 1) / perTask;
        CpuPool.parallelFor(tasks, task -> {
            int r1 = Math.min(rows, (task + 1) * perTask);
            for (int r = task * perTask; r < r1; r++) {
                out[r] = (float) rowSum(x, r * len, len);
            }
        });
        return out;
    }

    /** sum_j x[base + j] for j < len: float vector sums over chunks of ROW_CHUNK, added in double. */
    public static double rowSum(float[] x, int base, int len) {
        double total = 0;
        for (int c0 = 0; c0 < len; c0 += ROW_CHUNK) {
            int c1 = Math.min(len, c0 + ROW_CHUNK);
            int i = base + c0;
            int end = i + S.loopBound(c1 - c0);
            FloatVector a0 = FloatVector.zero(S);
            FloatVector a1 = FloatVector.zero(S);
            for (; i + L <= end - L; i += 2 * L) {
                a0 = a0.add(FloatVector.fromArray(S, x, i));
                a1 = a1.add(FloatVector.fromArray(S, x, i + L));
            }
            for (; i < end; i += L) {
                a0 = a0.add(FloatVector.fromArray(S, x, i));
            }
            float s = VectorMath.sumLanes(a0.add(a1));
            for (; i < base + c1; i++) {
                s += x[i];
            }
            total += s;
        }
        return total;
    }

    /** out[o*K + k] = sum_r x[(o*R + r)*K + k]. */
    static float[] columnSums(float[] x, int outer, int R, int K) {
        int blocks = (R + COL_BLOCK - 1) / COL_BLOCK;
        float[] parts = new float[outer * blocks * K]; // [outer, blocks, K]
        CpuPool.parallelFor(outer * blocks, task -> {
            int o = task / blocks;
            int b = task % blocks;
            int r0 = b * COL_BLOCK;
            int r1 = Math.min(R, r0 + COL_BLOCK);
            int dst = task * K;
            int src0 = (o * R + r0) * K;
            int vend = S.loopBound(K);
            for (int k = 0; k < vend; k += L) {
                FloatVector acc = FloatVector.fromArray(S, x, src0 + k);
                for (int r = r0 + 1, src = src0 + K + k; r < r1; r++, src += K) {
                    acc = acc.add(FloatVector.fromArray(S, x, src));
                }
                acc.intoArray(parts, dst + k);
            }
            for (int k = vend; k < K; k++) {
                float acc = 0;
                for (int r = r0, src = src0 + k; r < r1; r++, src += K) {
                    acc += x[src];
                }
                parts[dst + k] = acc;
            }
        });
        if (blocks == 1) {
            return parts;
        }
        float[] out = new float[outer * K];
        double[] acc = new double[K];
        for (int o = 0; o < outer; o++) {
            Arrays.fill(acc, 0);
            for (int b = 0; b < blocks; b++) {
                int src = (o * blocks + b) * K;
                for (int k = 0; k < K; k++) {
                    acc[k] += parts[src + k];
                }
            }
            for (int k = 0; k < K; k++) {
                out[o * K + k] = (float) acc[k];
            }
        }
        return out;
    }

    private static void scaleInPlace(float[] v, float scale) {
        int i = 0;
        for (int end = S.loopBound(v.length); i < end; i += L) {
            FloatVector.fromArray(S, v, i).mul(scale).intoArray(v, i);
        }
        for (; i < v.length; i++) {
            v[i] *= scale;
        }
    }

    /**
     * The broadcast of y (row-major over the kept dims of {@code shape}) back to {@code shape}, times
     * scale: out[i] = scale * y[the kept coordinates of i].
     */
    public static float[] broadcast(float[] y, int[] shape, boolean[] reduced, float scale) {
        // Merge adjacent dims of equal kind; the innermost merged dim is either copied (kept) or
        // filled with one value (reduced), one output row at a time.
        List<Integer> sizes = new ArrayList<>();
        List<Boolean> flags = new ArrayList<>();
        int n = 1;
        for (int d = 0; d < shape.length; d++) {
            n *= shape[d];
            if (shape[d] == 1) {
                continue;
            }
            int last = sizes.size() - 1;
            if (last >= 0 && flags.get(last) == reduced[d]) {
                sizes.set(last, sizes.get(last) * shape[d]);
            } else {
                sizes.add(shape[d]);
                flags.add(reduced[d]);
            }
        }
        float[] out = new float[n];
        if (n == 0) {
            return out;
        }
        int rank = sizes.size();
        if (rank == 0) {
            out[0] = y[0] * scale;
            return out;
        }
        int[] size = new int[rank];
        int[] ystride = new int[rank];
        int acc = 1;
        for (int d = rank - 1; d >= 0; d--) {
            size[d] = sizes.get(d);
            ystride[d] = flags.get(d) ? 0 : acc;
            acc *= flags.get(d) ? 1 : size[d];
        }
        int len = size[rank - 1];
        boolean copyRow = ystride[rank - 1] == 1;
        int rows = n / len;
        int perTask = Math.max(1, ROWS_PER_TASK_ELEMENTS / len);
        CpuPool.parallelFor((rows + perTask - 1) / perTask, task -> {
            int r1 = Math.min(rows, (task + 1) * perTask);
            for (int r = task * perTask; r < r1; r++) {
                int src = 0;
                for (int d = rank - 2, rem = r; d >= 0; d--) {
                    src += (rem % size[d]) * ystride[d];
                    rem /= size[d];
                }
                int dst = r * len;
                if (copyRow) {
                    int j = 0;
                    for (int end = S.loopBound(len); j < end; j += L) {
                        FloatVector.fromArray(S, y, src + j).mul(scale).intoArray(out, dst + j);
                    }
                    for (; j < len; j++) {
                        out[dst + j] = y[src + j] * scale;
                    }
                } else {
                    float v = y[src] * scale;
                    FloatVector bv = FloatVector.broadcast(S, v);
                    int j = 0;
                    for (int end = S.loopBound(len); j < end; j += L) {
                        bv.intoArray(out, dst + j);
                    }
                    for (; j < len; j++) {
                        out[dst + j] = v;
                    }
                }
            }
        });
        return out;
    }
}
