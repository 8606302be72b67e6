package org.attnkit.ops.shape;

import org.attnkit.tensor.DType;
import org.attnkit.tensor.Tensor;

/** Data movement shared by the shape operators: gathers and scatters of F32 or F64 CPU tensors. */
final class Elements {
    private Elements() {
    }

    /** out[i] = x[index[i]], shaped {@code shape}. */
    static Tensor gather(Tensor x, int[] index, int[] shape) {
        if (x.dtype() == DType.F64) {
            double[] s = x.doubleData();
            double[] o = new double[index.length];
            for (int i = 0; i < o.length; i++) {
                o[i] = s[index[i]];
            }
            return Tensor.wrap(o, shape);
        }
        float[] s = x.data();
        float[] o = new float[index.length];
        for (int i = 0; i < o.length; i++) {
            o[i] = s[index[i]];
        }
        return Tensor.wrap(o, shape);
    }

    /** A zero tensor of {@code shape} with out[index[i]] = g[i] (index must not repeat). */
    static Tensor scatter(Tensor g, int[] index, int[] shape, DType dtype) {
        Tensor out = Tensor.zeros(dtype, shape);
        if (dtype == DType.F64) {
            double[] s = g.toDoubleArray();
            double[] o = out.doubleData();
            for (int i = 0; i < s.length; i++) {
                o[index[i]] = s[i];
            }
        } else {
            float[] s = g.toArray();
            float[] o = out.data();
            for (int i = 0; i < s.length; i++) {
                o[index[i]] = s[i];
            }
        }
        return out;
    }
}
