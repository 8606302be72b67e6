package org.attnkit.ops.activation;

import static org.attnkit.ops.activation.ActivationSimd.L;
import static org.attnkit.ops.activation.ActivationSimd.S;

import jdk.incubator.vector.FloatVector;
import org.attnkit.tensor.CpuScope;
import org.attnkit.tensor.Tensor;

/**
 * The SIMD backend of {@link Gelu} (float32), exact erf form: Phi from the vector erfc of
 * {@link ActivationSimd#erfc} (relative error ~1e-6 in float), so y = x * Phi(x) and
 * dx = dy * (Phi(x) + x * phi(x)) carry about 1e-6 relative error.
 */
final class GeluSimdKernels implements GeluKernels {
    @Override
    public Tensor forward(Tensor x) {
        float[] xv = x.data();
        float[] y = CpuScope.outputArray(xv.length); // every element written
        ActivationSimd.chunks(xv.length, (from, to) -> {
            int i = from;
            for (int end = from + S.loopBound(to - from); i < end; i += L) {
                f(FloatVector.fromArray(S, xv, i)).intoArray(y, i);
            }
            if (i < to) {
                ActivationSimd.storeTail(f(ActivationSimd.tail(xv, i, to)), y, i, to);
            }
        });
        return Tensor.wrap(y, x.shape().toArray());
    }

    @Override
    public Tensor backward(Tensor x, Tensor dy) {
        float[] sv = x.data();
        float[] g = dy.data();
        float[] dx = CpuScope.outputArray(g.length); // every element written
        ActivationSimd.chunks(g.length, (from, to) -> {
            int i = from;
            for (int end = from + S.loopBound(to - from); i < end; i += L) {
                df(FloatVector.fromArray(S, sv, i), FloatVector.fromArray(S, g, i)).intoArray(dx, i);
            }
            if (i < to) {
                ActivationSimd.storeTail(df(ActivationSimd.tail(sv, i, to), ActivationSimd.tail(g, i, to)), dx, i, to);
            }
        });
        return Tensor.wrap(dx, dy.shape().toArray());
    }

    private static FloatVector f(FloatVector x) {
        return x.mul(ActivationSimd.normalCdf(x));
    }

    private static FloatVector df(FloatVector x, FloatVector g) {
        return g.mul(x.fma(ActivationSimd.normalPdf(x), ActivationSimd.normalCdf(x)));
    }
}
