package org.attnkit.ops.matmul;

import org.attnkit.tensor.Tensor;

/** Scalar reference of {@link MatMul}: triple loops per batch index, accumulating in double. */
final class MatMulRef implements MatMulKernels {
    @Override
    public Tensor forward(Tensor a, Tensor b) {
        int m = a.dim(-2);
        int k = a.dim(-1);
        int n = b.dim(-1);
        int batch = batchCount(a);
        double[] av = a.toDoubleArray(); // [batch, m, k]
        double[] bv = b.toDoubleArray(); // [batch, k, n]
        double[] c = new double[batch * m * n]; // [batch, m, n]
        for (int p = 0; p < batch; p++) {
            int ao = p * m * k;
            int bo = p * k * n;
            int co = p * m * n;
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double s = 0;
                    for (int q = 0; q < k; q++) {
                        s += av[ao + i * k + q] * bv[bo + q * n + j];
                    }
                    c[co + i * n + j] = s;
                }
            }
        }
        int[] shape = a.shape().toArray();
        shape[shape.length - 1] = n;
        return Tensor.fromDoubles(c, a.dtype(), shape);
    }

    @Override
    public Tensor[] backward(Tensor a, Tensor b, Tensor dc, boolean[] needsGrad) {
        int m = a.dim(-2);
        int k = a.dim(-1);
        int n = b.dim(-1);
        int batch = batchCount(a);
        double[] g = dc.toDoubleArray(); // [batch, m, n]
        double[] da = null;
        double[] db = null;
        if (needsGrad[0]) {
            double[] bv = b.toDoubleArray();
            da = new double[batch * m * k]; // [batch, m, k] = dc b^T
            for (int p = 0; p < batch; p++) {
                for (int i = 0; i < m; i++) {
                    for (int q = 0; q < k; q++) {
                        double s = 0;
                        for (int j = 0; j < n; j++) {
                            s += g[(p * m + i) * n + j] * bv[(p * k + q) * n + j];
                        }
                        da[(p * m + i) * k + q] = s;
                    }
                }
            }
        }
        if (needsGrad[1]) {
            double[] av = a.toDoubleArray();
            db = new double[batch * k * n]; // [batch, k, n] = a^T dc
            for (int p = 0; p < batch; p++) {
                for (int q = 0; q < k; q++) {
                    for (int j = 0; j < n; j++) {
                        double s = 0;
                        for (int i = 0; i < m; i++) {
                            s += av[(p * m + i) * k + q] * g[(p * m + i) * n + j];
                        }
                        db[(p * k + q) * n + j] = s;
                    }
                }
            }
        }
        return new Tensor[] {
            da == null ? null : Tensor.fromDoubles(da, dc.dtype(), a.shape().toArray()),
            db == null ? null : Tensor.fromDoubles(db, dc.dtype(), b.shape().toArray())
        };
    }

    /** Product of the leading (batch) dims; 1 for a plain matrix. */
    private static int batchCount(Tensor a) {
        int batch = 1;
        for (int d = 0; d < a.rank() - 2; d++) {
            batch *= a.dim(d);
        }
        return batch;
    }
}
