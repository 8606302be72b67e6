package org.attnkit.nn;

import java.util.SplittableRandom;
import org.attnkit.tensor.Tensor;

/** Token embeddings: a {@code [V, D]} table, initialized N(0, 1/D) so rows have norm about 1. */
public final class Embedding extends Module {
    public final int vocab;
    public final int dim;
    public final Tensor table;

    public Embedding(SplittableRandom rng, int vocab, int dim) {
        if (vocab < 1 || dim < 1) {
            throw new IllegalArgumentException("Embedding: vocab and dim must be >= 1, got vocab=" + vocab + ", dim="
                    + dim);
        }
        this.vocab = vocab;
        this.dim = dim;
        this.table = parameter("weight", Init.normal(rng, 1.0 / Math.sqrt(dim), vocab, dim));
    }

    /** ids laid out as {@code [B, T]} (row-major): output {@code [B, T, D]}. */
    public Tensor forward(int[] ids, int batch, int time) {
        return org.attnkit.ops.embedding.Embedding.apply(ids, new int[] {batch, time}, table);
    }
}
