package org.attnkit.ops.shape;

import org.attnkit.autograd.Autograd;
import org.attnkit.backend.Backend;
import org.attnkit.backend.Kernels;
import org.attnkit.tensor.Tensor;

/**
 * Reorders dimensions (a copy): output dimension i is input dimension {@code perm[i]}. Backward permutes
 * the gradient back with the inverse permutation; nothing is saved but the permutation.
 */
public final class Permute {
    static final Kernels<ShapeKernels> KERNELS = Kernels.of("permute", (ShapeKernels) new ShapeRef())
            .with(Backend.CUDA, new ShapeCuda());

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
        int[] p = perm.clone();
        Tensor y = KERNELS.select(x).permute(x, p);
        int[] inverse = new int[r];
        for (int i = 0; i < r; i++) {
            inverse[p[i]] = i;
        }
        return Autograd.record("permute", y, (g, needs) -> new Tensor[] {apply(g, inverse)}, x);
    }
}
