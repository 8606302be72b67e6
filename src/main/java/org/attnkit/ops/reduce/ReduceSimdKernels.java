package org.attnkit.ops.reduce;

import org.attnkit.tensor.Tensor;

/** The SIMD backend of {@link Sum} and {@link Mean} (float32), on {@link ReduceSimd}. */
final class ReduceSimdKernels implements ReduceKernels {
    @Override
    public Tensor forward(Tensor x, boolean[] reduced, boolean keepDim, double scale) {
        int[] inShape = x.shape().toArray();
        float[] y = ReduceSimd.sum(x.data(), inShape, reduced, (float) scale);
        return Tensor.wrap(y, Reductions.outputShape(inShape, reduced, keepDim));
    }

    @Override
    public Tensor backward(Tensor dy, int[] inShape, boolean[] reduced, double scale) {
        return Tensor.wrap(ReduceSimd.broadcast(dy.data(), inShape, reduced, (float) scale), inShape);
    }
}
