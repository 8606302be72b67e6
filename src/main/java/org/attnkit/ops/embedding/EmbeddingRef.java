package org.attnkit.ops.embedding;

import org.attnkit.tensor.Tensor;

/** Scalar reference of {@link Embedding}: a gather forward and a sequential scatter-add backward, in double. */
final class EmbeddingRef implements EmbeddingKernels {
    @Override
    public Tensor forward(int[] ids, Tensor table, int[] outShape) {
        int d = table.dim(1);
        double[] t = table.toDoubleArray();      // [V, D]
        double[] out = new double[ids.length * d]; // [N, D]
        for (int i = 0; i < ids.length; i++) {
            System.arraycopy(t, ids[i] * d, out, i * d, d);
        }
        return Tensor.fromDoubles(out, table.dtype(), outShape);
    }

    @Override
    public Tensor backward(int[] ids, Tensor dy, int vocab) {
        int d = dy.dim(-1);
        double[] g = dy.toDoubleArray();        // [N, D]
        double[] dTable = new double[vocab * d]; // [V, D]
        for (int i = 0; i < ids.length; i++) {
            int row = ids[i] * d;
            for (int j = 0; j < d; j++) {
                dTable[row + j] += g[i * d + j];
            }
        }
        return Tensor.fromDoubles(dTable, dy.dtype(), vocab, d);
    }
}
