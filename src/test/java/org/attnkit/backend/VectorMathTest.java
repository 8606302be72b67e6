package org.attnkit.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

class VectorMathTest {
    private static float[] samples(double lo, double hi, int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (lo + (hi - lo) * r.nextDouble());
        }
        return v;
    }

    @Test
    void expIsAccurateAndItsScalarTwinGivesTheSameBits() {
        float[] x = samples(-87, 88, 64 * VectorMath.S.length(), 1);
        float[] out = new float[x.length];
        for (int i = 0; i < x.length; i += VectorMath.S.length()) {
            VectorMath.exp(FloatVector.fromArray(VectorMath.S, x, i)).intoArray(out, i);
        }
        for (int i = 0; i < x.length; i++) {
            double want = Math.exp(x[i]);
            assertTrue(Math.abs(out[i] - want) <= 3e-7 * want, "exp(" + x[i] + ") = " + out[i] + ", want " + want);
            assertEquals(Float.floatToIntBits(out[i]), Float.floatToIntBits(VectorMath.exp(x[i])));
        }
        assertEquals(0f, VectorMath.exp(Float.NEGATIVE_INFINITY));
        assertEquals(0f, VectorMath.exp(-100f));
    }

    @Test
    void tanhIsRelativelyAccurateAlsoNearZero() {
        float[] x = samples(-9, 9, 32 * VectorMath.S.length(), 2);
        float[] tiny = samples(-1e-3, 1e-3, 8 * VectorMath.S.length(), 3);
        for (float[] set : new float[][] {x, tiny}) {
            float[] out = new float[set.length];
            for (int i = 0; i < set.length; i += VectorMath.S.length()) {
                VectorMath.tanh(FloatVector.fromArray(VectorMath.S, set, i)).intoArray(out, i);
            }
            for (int i = 0; i < set.length; i++) {
                double want = Math.tanh(set[i]);
                // A few float ulps of the result, relative (the polynomial branch keeps this near 0).
                assertTrue(Math.abs(out[i] - want) <= 4e-7 * Math.abs(want) + 1e-30,
                        "tanh(" + set[i] + ") = " + out[i] + ", want " + want);
                assertEquals(Float.floatToIntBits(out[i]), Float.floatToIntBits(VectorMath.tanh(set[i])));
            }
        }
    }

    @Test
    void sumLanesAddsEveryLane() {
        float[] v = new float[VectorMath.S.length()];
        double want = 0;
        for (int i = 0; i < v.length; i++) {
            v[i] = 1 << i % 20;
            want += v[i];
        }
        assertEquals(want, VectorMath.sumLanes(FloatVector.fromArray(VectorMath.S, v, 0)), 0);
    }
}
