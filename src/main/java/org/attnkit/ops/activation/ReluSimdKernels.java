package org.attnkit.ops.activation;

import static org.attnkit.ops.activation.ActivationSimd.L;
import static org.attnkit.ops.activation.ActivationSimd.S;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import org.attnkit.tensor.CpuScope;
import org.attnkit.tensor.Tensor;

/**
 * The SIMD backend of {@link Relu} (float32). Forward replaces x by +0 where x &lt;= 0, a comparison
 * that is false for NaN (which propagates, as in the reference) and true for -0.0 (which maps to +0).
 * Backward keeps dy where x &gt; 0 (false for NaN).
 */
final class ReluSimdKernels implements ReluKernels {
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
        return x.blend(0f, x.compare(VectorOperators.LE, 0f));
    }

    private static FloatVector df(FloatVector x, FloatVector g) {
        return g.blend(0f, x.compare(VectorOperators.GT, 0f).not());
    }
}
