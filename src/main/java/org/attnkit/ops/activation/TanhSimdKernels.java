package org.attnkit.ops.activation;

import static org.attnkit.ops.activation.ActivationSimd.L;
import static org.attnkit.ops.activation.ActivationSimd.S;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import org.attnkit.tensor.CpuScope;
import org.attnkit.tensor.Tensor;
import org.attnkit.backend.VectorMath;

/** The SIMD backend of {@link Tanh} (float32): lanewise TANH forward, dy * (1 - y^2) backward. */
final class TanhSimdKernels implements TanhKernels {
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
    public Tensor backward(Tensor y, Tensor dy) {
        float[] sv = y.data();
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
        return VectorMath.tanh(x);
    }

    private static FloatVector df(FloatVector y, FloatVector g) {
        return g.mul(y.neg().fma(y, FloatVector.broadcast(S, 1f)));
    }
}
