package org.attnkit.ops.embedding;

import java.util.Arrays;
import org.attnkit.autograd.Autograd;
import org.attnkit.backend.Backend;
import org.attnkit.backend.Kernels;
import org.attnkit.tensor.Tensor;
import org.attnkit.util.Check;

/**
 * Embedding lookup: rows of {@code table [V, D]} picked by integer ids. The ids are a flat row-major
 * {@code int[]} with a shape {@code idsShape} (for a batch of token sequences, {@code [B, T]}); the
 * output is {@code [idsShape..., D]} with {@code out[i, :] = table[ids[i], :]}, in the table's dtype.
 * Every id must lie in {@code [0, V)}.
 *
 * <p>Backward saves the ids (a private copy) and scatter-adds into a zero {@code dTable [V, D]}:
 * {@code dTable[ids[i], :] += dy[i, :]} sequentially for i = 0, 1, ..., so a repeated id accumulates
 * the gradients of all its positions and the result is deterministic. Only the table gets a gradient.
 */
public final class Embedding {
    static final Kernels<EmbeddingKernels> KERNELS = Kernels.of("embedding", (EmbeddingKernels) new EmbeddingRef())
            .with(Backend.SIMD, new EmbeddingSimdKernels()).with(Backend.CUDA, new EmbeddingCuda());

    private static final String OP = "embedding";

    private Embedding() {
    }

    /** Looks up a flat sequence of ids: output {@code [ids.length, D]}. */
    public static Tensor apply(int[] ids, Tensor table) {
        return apply(ids, ids == null ? null : new int[] {ids.length}, table);
    }

    /** Looks up ids laid out as {@code idsShape} (row-major): output {@code [idsShape..., D]}. */
    public static Tensor apply(int[] ids, int[] idsShape, Tensor table) {
        Check.rank(OP, "table", table, 2, "[V, D]");
        if (ids == null) {
            throw new IllegalArgumentException(OP + ": ids must not be null");
        }
        if (idsShape == null) {
            throw new IllegalArgumentException(OP + ": idsShape must not be null");
        }
        long count = 1;
        for (int i = 0; i < idsShape.length; i++) {
            if (idsShape[i] < 0) {
                throw new IllegalArgumentException(OP + ": idsShape dimension " + i + " must be >= 0, got "
                        + idsShape[i] + " in " + Arrays.toString(idsShape));
            }
            count *= idsShape[i];
        }
        if (count != ids.length) {
            throw new IllegalArgumentException(OP + ": idsShape " + Arrays.toString(idsShape) + " holds " + count
                    + " ids but ids has length " + ids.length);
        }
        int vocab = table.dim(0);
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0 || ids[i] >= vocab) {
                throw new IllegalArgumentException(OP + ": ids[" + i + "] = " + ids[i] + " is out of range [0, " + vocab
                        + ") for table of shape " + table.shape());
            }
        }
        int[] outShape = Arrays.copyOf(idsShape, idsShape.length + 1);
        outShape[idsShape.length] = table.dim(1);
        // Backward reads the ids later: keep a copy the caller cannot change.
        int[] saved = ids.clone();
        EmbeddingKernels k = KERNELS.select(table);
        Tensor y = k.forward(saved, table, outShape);
        return Autograd.record(OP, y, (dy, needs) -> new Tensor[] {k.backward(saved, dy, vocab)}, table);
    }
}
