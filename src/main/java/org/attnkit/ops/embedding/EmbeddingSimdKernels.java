package org.attnkit.ops.embedding;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.attnkit.backend.CpuPool;
import org.attnkit.tensor.Tensor;

/**
 * The SIMD backend of {@link Embedding} (float32). Forward gathers rows with vector copies, split
 * into fixed blocks of ids. Backward scatter-adds dy rows in index order i = 0, 1, ... as the
 * interface requires; to parallelize without changing that order, the D columns are split into fixed
 * blocks of {@value #COLS}, and each task adds every row's slice of its own columns, in index order,
 * with float32 vector adds. The bits depend only on the shape.
 */
final class EmbeddingSimdKernels implements EmbeddingKernels {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    private static final int COLS = 128; // a multiple of every vector length
    private static final int TASK_ELEMENTS = 1 << 14;

    @Override
    public Tensor forward(int[] ids, Tensor table, int[] outShape) {
        int d = table.dim(1);
        float[] t = table.data();                 // [V, D]
        float[] out = new float[ids.length * d];  // [N, D]
        int perTask = Math.max(1, TASK_ELEMENTS / Math.max(1, d));
        CpuPool.parallelFor((ids.length + perTask - 1) / perTask, task -> {
            int i1 = Math.min(ids.length, (task + 1) * perTask);
            for (int i = task * perTask; i < i1; i++) {
                int src = ids[i] * d;
                int dst = i * d;
                int j = 0;
                for (int end = S.loopBound(d); j < end; j += L) {
                    FloatVector.fromArray(S, t, src + j).intoArray(out, dst + j);
                }
                for (; j < d; j++) {
                    out[dst + j] = t[src + j];
                }
            }
        });
        return Tensor.wrap(out, outShape);
    }

    @Override
    public Tensor backward(int[] ids, Tensor dy, int vocab) {
        int d = dy.dim(-1);
        float[] g = dy.data();                    // [N, D]
        float[] dTable = new float[vocab * d];    // [V, D]
        int blocks = (d + COLS - 1) / COLS;
        CpuPool.parallelFor(blocks, block -> {
            int j0 = block * COLS;
            int j1 = Math.min(d, j0 + COLS);
            int vend = j0 + S.loopBound(j1 - j0);
            for (int i = 0; i < ids.length; i++) {
                int row = ids[i] * d;
                int src = i * d;
                int j = j0;
                for (; j < vend; j += L) {
                    FloatVector.fromArray(S, g, src + j).add(FloatVector.fromArray(S, dTable, row + j))
                            .intoArray(dTable, row + j);
                }
                for (; j < j1; j++) {
                    dTable[row + j] += g[src + j];
                }
            }
        });
        return Tensor.wrap(dTable, vocab, d);
    }
}
