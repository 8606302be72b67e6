package org.attnkit.ops.shape;

import org.attnkit.autograd.Autograd;
import org.attnkit.tensor.Tensor;

/** Reorders dimensions (a copy): output dimension i is input dimension {@code perm[i]}. */
public final class Permute {
    private Permute() {
    }

    public static Tensor apply(Tensor x, int... perm) {
        int r = x.rank();
        if (perm.length != r) {
            throw new IllegalArgumentException("permute: perm must list " + r + " dimensions, got " + perm.length);
        }
        boolean[] seen = new boolean[r];
        for (int p : perm) {
            if (p < 0 || p >= r || seen[p]) {
                throw new IllegalArgumentException("permute: perm must be a permutation of 0.." + (r - 1) + ", got "
                        + java.util.Arrays.toString(perm));
            }
            seen[p] = true;
        }
        int[] inShape = x.shape().toArray();
        int[] inStrides = x.shape().strides();
        int[] outShape = new int[r];
        for (int i = 0; i < r; i++) {
            outShape[i] = inShape[perm[i]];
        }
        int n = x.numel();
        int[] index = new int[n];
        int[] coord = new int[r];
        for (int i = 0; i < n; i++) {
            int off = 0;
            for (int d = 0; d < r; d++) {
                off += coord[d] * inStrides[perm[d]];
            }
            index[i] = off;
            for (int d = r - 1; d >= 0; d--) {
                if (++coord[d] < outShape[d]) {
                    break;
                }
                coord[d] = 0;
            }
        }
        Tensor y = Elements.gather(x, index, outShape);
        int[] inverse = new int[r];
        for (int i = 0; i < r; i++) {
            inverse[perm[i]] = i;
        }
        return Autograd.record("permute", y, (g, needs) -> new Tensor[] {apply(g, inverse)}, x);
    }
}
