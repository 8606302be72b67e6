package org.attnkit.ops.embedding;

import org.attnkit.tensor.Tensor;

/** What every backend implements for {@link Embedding}. Ids are already checked to be in [0, V). */
public interface EmbeddingKernels {
    /** out[i, :] = table[ids[i], :], shaped {@code outShape} = [idsShape..., D]. */
    Tensor forward(int[] ids, Tensor table, int[] outShape);

    /**
     * dTable {@code [vocab, D]} with dTable[v, :] = sum of dy[i, :] over the i where ids[i] == v,
     * accumulated in index order i = 0, 1, ... so that every backend gives the same bits.
     */
    Tensor backward(int[] ids, Tensor dy, int vocab);
}
