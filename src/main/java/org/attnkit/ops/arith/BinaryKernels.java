package org.attnkit.ops.arith;

import org.attnkit.tensor.Tensor;

/**
 * What every backend implements for one elementwise binary operator ({@link Add}, {@link Sub},
 * {@link Mul}, {@link Div}). Inputs follow NumPy broadcasting; the entry class has already checked
 * that their shapes broadcast and share device and dtype.
 */
public interface BinaryKernels {
    /** c = f(a, b), shaped like the broadcast of a and b, dtype of a. */
    Tensor forward(Tensor a, Tensor b);

    /**
     * {@code {da, db}} from dc (shaped like c): each gradient is reduced (summed) over the dimensions
     * its input was broadcast along, so it has its input's shape. Entry i is computed only when
     * {@code needsGrad[i]}; otherwise it is null.
     */
    Tensor[] backward(Tensor a, Tensor b, Tensor dc, boolean[] needsGrad);
}
