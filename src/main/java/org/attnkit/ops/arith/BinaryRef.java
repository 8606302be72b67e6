package org.attnkit.ops.arith;

import org.attnkit.tensor.Tensor;

/**
 * Scalar reference shared by the elementwise binary operators, in double: each operator supplies
 * its value and its two partial derivatives at a pair of elements.
 */
abstract class BinaryRef implements BinaryKernels {
    /** f(a, b). */
    abstract double value(double a, double b);

    /** df/da at (a, b). */
    abstract double partialA(double a, double b);

    /** df/db at (a, b). */
    abstract double partialB(double a, double b);

    @Override
    public Tensor forward(Tensor a, Tensor b) {
        int[] outShape = Broadcast.shape("binary", a, b);
        int[] ai = Broadcast.sourceIndex(a.shape().toArray(), outShape);
        int[] bi = Broadcast.sourceIndex(b.shape().toArray(), outShape);
        double[] av = a.toDoubleArray();
        double[] bv = b.toDoubleArray();
        double[] c = new double[ai.length]; // outShape
        for (int i = 0; i < c.length; i++) {
            c[i] = value(av[ai[i]], bv[bi[i]]);
        }
        return Tensor.fromDoubles(c, a.dtype(), outShape);
    }

    @Override
    public Tensor[] backward(Tensor a, Tensor b, Tensor dc, boolean[] needsGrad) {
        int[] outShape = dc.shape().toArray();
        int[] ai = Broadcast.sourceIndex(a.shape().toArray(), outShape);
        int[] bi = Broadcast.sourceIndex(b.shape().toArray(), outShape);
        double[] av = a.toDoubleArray();
        double[] bv = b.toDoubleArray();
        double[] g = dc.toDoubleArray();
        // Broadcast elements read by several outputs collect the sum of their gradients here.
        double[] da = needsGrad[0] ? new double[av.length] : null; // a.shape
        double[] db = needsGrad[1] ? new double[bv.length] : null; // b.shape
        for (int i = 0; i < g.length; i++) {
            double x = av[ai[i]];
            double y = bv[bi[i]];
            if (da != null) {
                da[ai[i]] += g[i] * partialA(x, y);
            }
            if (db != null) {
                db[bi[i]] += g[i] * partialB(x, y);
            }
        }
        return new Tensor[] {
            da == null ? null : Tensor.fromDoubles(da, dc.dtype(), a.shape().toArray()),
            db == null ? null : Tensor.fromDoubles(db, dc.dtype(), b.shape().toArray())
        };
    }
}
