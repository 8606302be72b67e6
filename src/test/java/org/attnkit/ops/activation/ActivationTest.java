package org.attnkit.ops.activation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import java.util.function.DoubleUnaryOperator;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.attnkit.autograd.GradCheck;
import org.attnkit.tensor.DType;
import org.attnkit.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Relu, Sigmoid and Gelu. */
class ActivationTest {
    record Act(String name, UnaryOperator<Tensor> apply, DoubleUnaryOperator math) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Act> activations() {
        return Stream.of(
                new Act("relu", Relu::apply, x -> x > 0 ? x : 0),
                new Act("sigmoid", Sigmoid::apply, x -> Math.exp(x) / (Math.exp(x) + 1)),
                // Independent of Erf: Phi by quadrature of the normal density, as an upper-tail
                // integral for x < 0 so that it keeps its relative accuracy there.
                new Act("gelu", Gelu::apply, x -> x < 0
                        ? x * 0.5 * ErfTest.simpson(-x / Math.sqrt(2), -x / Math.sqrt(2) + 12)
                        : x * (0.5 + 0.5 * ErfTest.simpson(0, x / Math.sqrt(2)))));
    }

    /** Uniform in +-range, but at least 0.05 from 0 so that Relu's kink is outside the FD stencil. */
    static Tensor values(long seed, double range, int... shape) {
        SplittableRandom r = new SplittableRandom(seed);
        double[] v = new double[Tensor.zeros(shape).numel()];
        for (int i = 0; i < v.length; i++) {
            double m = 0.05 + r.nextDouble() * (range - 0.05);
            v[i] = r.nextBoolean() ? m : -m;
        }
        return Tensor.fromDoubles(v, DType.F64, shape);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("activations")
    void forwardMatchesIndependentFormula(Act act) {
        Tensor x = values(1, 6, 3, 7, 2);
        double[] xv = x.toDoubleArray();
        double[] y = act.apply.apply(x).toDoubleArray();
        for (int i = 0; i < y.length; i++) {
            double want = act.math.applyAsDouble(xv[i]);
            assertEquals(want, y[i], 1e-13 * Math.max(1, Math.abs(want)), act + "(" + xv[i] + ")");
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("activations")
    void gradientMatchesFiniteDifferences(Act act) {
        GradCheck.assertGradients(in -> act.apply.apply(in[0]), values(2, 3, 4, 5).requiresGrad(true));
        // Wider range: the tails, and for Gelu both sides of Erf's switch at |x| = 3 sqrt 2.
        GradCheck.assertGradients(in -> act.apply.apply(in[0]), values(3, 8, 31).requiresGrad(true));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("activations")
    void float32MatchesFloat64(Act act) {
        Tensor x = values(4, 5, 6, 9);
        double[] want = act.apply.apply(x).toDoubleArray();
        Tensor y32 = act.apply.apply(x.to(DType.F32));
        assertEquals(DType.F32, y32.dtype());
        float[] got = y32.toArray();
        float[] x32 = x.to(DType.F32).toArray();
        for (int i = 0; i < want.length; i++) {
            // The F32 input is x rounded to float; compare against the F64 op on that same input.
            double ref = act.apply.apply(Tensor.of(new double[] {x32[i]}, 1)).item();
            assertEquals(ref, got[i], 1e-5 * Math.abs(ref) + 1e-30, act + " element " + i);
            assertEquals(want[i], got[i], 1e-5 * Math.max(1, Math.abs(want[i])), act + " element " + i);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("activations")
    void rejectsNull(Act act) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> act.apply.apply(null));
        assertTrue(e.getMessage().contains(act.name + ": x must not be null"), e.getMessage());
    }

    @Test
    void geluMatchesPublishedErfValues() {
        // gelu(x) = 0.5 x (1 + erf(x / sqrt 2)) at x = sqrt2 * {0.5, 1, 2, -1.5}.
        double[][] cases = {{0.5, 0.5204998778130465}, {1, 0.8427007929497149}, {2, 0.9953222650189527},
            {-1.5, -0.9661051464753108}};
        for (double[] c : cases) {
            double x = Math.sqrt(2) * c[0];
            double want = 0.5 * x * (1 + c[1]);
            assertEquals(want, Gelu.apply(Tensor.of(new double[] {x}, 1)).item(), 1e-15);
        }
    }

    @Test
    void geluTailsAreZeroAndIdentity() {
        double[] y = Gelu.apply(Tensor.of(new double[] {-40, 40, 0}, 3)).toDoubleArray();
        assertEquals(0, y[0], 1e-300);
        assertEquals(40, y[1], 0);
        assertEquals(0, y[2], 0);
        // In the far negative tail the product x Phi(x) keeps relative accuracy.
        double x = -10;
        double want = x * 0.5 * ErfTest.simpson(-x / Math.sqrt(2), -x / Math.sqrt(2) + 12);
        assertEquals(want, Gelu.apply(Tensor.of(new double[] {x}, 1)).item(), 1e-10 * Math.abs(want));
    }

    @Test
    void sigmoidDoesNotOverflowForLargeInputs() {
        double[] y = Sigmoid.apply(Tensor.of(new double[] {-1000, 1000, 0}, 3)).toDoubleArray();
        assertEquals(0, y[0], 0);
        assertEquals(1, y[1], 0);
        assertEquals(0.5, y[2], 0);
        GradCheck.assertGradients(in -> Sigmoid.apply(in[0]),
                Tensor.of(new double[] {-30, 30, -700}, 3).requiresGrad(true));
    }

    @Test
    void reluPassesNanAndZeroesNegatives() {
        double[] y = Relu.apply(Tensor.of(new double[] {Double.NaN, -0.0, -3, 2.5}, 4)).toDoubleArray();
        assertTrue(Double.isNaN(y[0]));
        assertEquals(0.0, y[1], 0);
        assertEquals(Double.doubleToLongBits(0.0), Double.doubleToLongBits(y[1]));
        assertEquals(0, y[2], 0);
        assertEquals(2.5, y[3], 0);
    }

    @Test
    void reluGradientIsZeroAtAndBelowZero() {
        Tensor x = Tensor.of(new double[] {-1, 0, 2}, 3).requiresGrad(true);
        Relu.apply(x).backward(Tensor.of(new double[] {5, 6, 7}, 3));
        assertEquals(0, x.grad().toDoubleArray()[0], 0);
        assertEquals(0, x.grad().toDoubleArray()[1], 0);
        assertEquals(7, x.grad().toDoubleArray()[2], 0);
    }
}
