package org.attnkit.ops.glu;

import org.attnkit.tensor.Tensor;

/** Scalar reference of {@link Glu}, in double. x is viewed as [outer, 2 * half, inner]. */
final class GluRef implements GluKernels {
    @Override
    public Tensor forward(Tensor x, int axis) {
        int[] shape = x.shape().toArray();
        int half = shape[axis] / 2;
        int outer = x.shape().numel(0, axis);
        int inner = x.shape().numel(axis + 1, shape.length);
        double[] xv = x.toDoubleArray(); // [outer, 2 * half, inner]
        double[] y = new double[outer * half * inner]; // [outer, half, inner]
        for (int o = 0; o < outer; o++) {
            for (int h = 0; h < half; h++) {
                for (int i = 0; i < inner; i++) {
                    double a = xv[(o * 2 * half + h) * inner + i];
                    double g = xv[(o * 2 * half + half + h) * inner + i];
                    y[(o * half + h) * inner + i] = a * sigmoid(g);
                }
            }
        }
        shape[axis] = half;
        return Tensor.fromDoubles(y, x.dtype(), shape);
    }

    @Override
    public Tensor backward(Tensor x, int axis, Tensor dy) {
        int[] shape = x.shape().toArray();
        int half = shape[axis] / 2;
        int outer = x.shape().numel(0, axis);
        int inner = x.shape().numel(axis + 1, shape.length);
        double[] xv = x.toDoubleArray();
        double[] g = dy.toDoubleArray(); // [outer, half, inner]
        double[] dx = new double[xv.length]; // [outer, 2 * half, inner]
        for (int o = 0; o < outer; o++) {
            for (int h = 0; h < half; h++) {
                for (int i = 0; i < inner; i++) {
                    int ia = (o * 2 * half + h) * inner + i;
                    int ig = (o * 2 * half + half + h) * inner + i;
                    double s = sigmoid(xv[ig]);
                    double d = g[(o * half + h) * inner + i];
                    dx[ia] = d * s;
                    dx[ig] = d * xv[ia] * s * (1 - s);
                }
            }
        }
        return Tensor.fromDoubles(dx, dy.dtype(), shape);
    }

    /** exp is only taken of a non-positive number, so it cannot overflow for large |x|. */
    private static double sigmoid(double x) {
        if (x >= 0) {
            return 1 / (1 + Math.exp(-x));
        }
        double e = Math.exp(x);
        return e / (1 + e);
    }
}
