package org.attnkit.ops.reduce;

import org.attnkit.tensor.Tensor;

/** Scalar reference of {@link Sum} and {@link Mean}, accumulating in double. */
final class ReduceRef implements ReduceKernels {
    @Override
    public Tensor forward(Tensor x, boolean[] reduced, boolean keepDim, double scale) {
        int[] inShape = x.shape().toArray();
        int[] target = targetIndex(inShape, reduced);
        double[] xv = x.toDoubleArray();
        double[] y = new double[outputSize(inShape, reduced)];
        for (int i = 0; i < xv.length; i++) {
            y[target[i]] += xv[i];
        }
        for (int o = 0; o < y.length; o++) {
            y[o] *= scale;
        }
        return Tensor.fromDoubles(y, x.dtype(), Reductions.outputShape(inShape, reduced, keepDim));
    }

    @Override
    public Tensor backward(Tensor dy, int[] inShape, boolean[] reduced, double scale) {
        int[] target = targetIndex(inShape, reduced);
        double[] g = dy.toDoubleArray();
        double[] dx = new double[target.length]; // inShape
        for (int i = 0; i < dx.length; i++) {
            dx[i] = scale * g[target[i]];
        }
        return Tensor.fromDoubles(dx, dy.dtype(), inShape);
    }

    private static int outputSize(int[] inShape, boolean[] reduced) {
        int n = 1;
        for (int d = 0; d < inShape.length; d++) {
            n *= reduced[d] ? 1 : inShape[d];
        }
        return n;
    }

    /** For each element of x (row-major), the flat index of the output element it sums into. */
    private static int[] targetIndex(int[] inShape, boolean[] reduced) {
        int rank = inShape.length;
        int[] outStride = new int[rank]; // 0 along reduced dims
        int acc = 1;
        for (int d = rank - 1; d >= 0; d--) {
            outStride[d] = reduced[d] ? 0 : acc;
            acc *= reduced[d] ? 1 : inShape[d];
        }
        int n = 1;
        for (int s : inShape) {
            n *= s;
        }
        int[] index = new int[n];
        int[] coord = new int[rank];
        int o = 0;
        for (int i = 0; i < n; i++) {
            index[i] = o;
            for (int d = rank - 1; d >= 0; d--) {
                coord[d]++;
                o += outStride[d];
                if (coord[d] < inShape[d]) {
                    break;
                }
                o -= outStride[d] * coord[d];
                coord[d] = 0;
            }
        }
        return index;
    }
}
