package org.attnkit.ops.shape;

import java.util.Arrays;
import org.attnkit.autograd.Autograd;
import org.attnkit.tensor.Tensor;

/** A view with another shape of the same number of elements; one size may be -1 (inferred). */
public final class Reshape {
    private Reshape() {
    }

    public static Tensor apply(Tensor x, int... shape) {
        int[] target = resolve(x, shape);
        Tensor y = x.viewAs(target);
        int[] original = x.shape().toArray();
        return Autograd.record("reshape", y, (g, needs) -> new Tensor[] {g.reshape(original)}, x);
    }

    private static int[] resolve(Tensor x, int[] shape) {
        int[] s = shape.clone();
        int inferred = -1;
        long known = 1;
        for (int i = 0; i < s.length; i++) {
            if (s[i] == -1) {
                if (inferred >= 0) {
                    throw new IllegalArgumentException("reshape: only one dimension may be -1, got "
                            + Arrays.toString(shape));
                }
                inferred = i;
            } else if (s[i] < 0) {
                throw new IllegalArgumentException("reshape: dimension " + i + " must be >= 0 or -1, got " + s[i]);
            } else {
                known *= s[i];
            }
        }
        if (inferred >= 0) {
            if (known == 0 || x.numel() % known != 0) {
                throw new IllegalArgumentException("reshape: cannot infer -1 in " + Arrays.toString(shape)
                        + " for " + x.numel() + " elements of shape " + x.shape());
            }
            s[inferred] = (int) (x.numel() / known);
            known *= s[inferred];
        }
        if (known != x.numel()) {
            throw new IllegalArgumentException("reshape: shape " + Arrays.toString(shape) + " holds " + known
                    + " elements but the tensor of shape " + x.shape() + " holds " + x.numel());
        }
        return s;
    }
}
