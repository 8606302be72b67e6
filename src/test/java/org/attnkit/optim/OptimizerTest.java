package org.attnkit.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.attnkit.tensor.Tensor;
import org.junit.jupiter.api.Test;

class OptimizerTest {
    private static Tensor param(float... v) {
        return Tensor.of(v, v.length).requiresGrad(true);
    }

    private static void setGrad(Tensor p, float... g) {
        p.zeroGrad();
        p.accumulateGrad(Tensor.of(g, g.length));
    }

    @Test
    void sgdStepIsPMinusLrTimesGrad() {
        Tensor p = param(1f, 2f);
        setGrad(p, 0.5f, -1f);
        Sgd.of(List.of(p), 0.1).step();
        assertArrayEquals(new float[] {(float) (1 - 0.1 * 0.5), (float) (2 + 0.1)}, p.data());
    }

    @Test
    void sgdMomentumAndWeightDecayMatchHandComputedUpdates() {
        Tensor p = param(1f);
        Sgd opt = new Sgd(List.of(new ParamGroup("g", List.of(p), 0.1, 0.01)), 0.9);
        setGrad(p, 2f);
        opt.step();
        // step 1: g' = 2 + 0.01*1 = 2.01; buf = 2.01; p = 1 - 0.201 = 0.799
        assertEquals(0.799, p.data()[0], 1e-6);
        setGrad(p, -1f);
        opt.step();
        // step 2: g' = -1 + 0.01*0.799 = -0.99201; buf = 0.9*2.01 - 0.99201 = 0.81699; p = 0.799 - 0.081699
        assertEquals(0.799 - 0.081699, p.data()[0], 1e-6);
    }

    @Test
    void adamFirstTwoStepsMatchHandComputedUpdates() {
        Tensor p = param(1f, -3f);
        Adam opt = new Adam(List.of(ParamGroup.of(List.of(p), 0.01)), 0.9, 0.999, 1e-8, false);
        setGrad(p, 0.2f, -4f);
        opt.step();
        // After one step mhat = g and vhat = g^2, so each entry moves by lr * g / (|g| + eps) = lr * sign(g).
        assertEquals(1 - 0.01, p.data()[0], 1e-6);
        assertEquals(-3 + 0.01, p.data()[1], 1e-6);
        setGrad(p, 0.1f, 2f);
        opt.step();
        double[] g1 = {0.2, -4};
        double[] g2 = {0.1, 2};
        double[] expected = {1 - 0.01, -3 + 0.01};
        for (int i = 0; i < 2; i++) {
            double m = 0.9 * (0.1 * g1[i]) + 0.1 * g2[i];
            double v = 0.999 * (0.001 * g1[i] * g1[i]) + 0.001 * g2[i] * g2[i];
            double mhat = m / (1 - 0.81);
            double vhat = v / (1 - 0.999 * 0.999);
            expected[i] -= 0.01 * mhat / (Math.sqrt(vhat) + 1e-8);
            assertEquals(expected[i], p.data()[i], 1e-6, "entry " + i);
        }
    }

    @Test
    void adamWDecaysTheWeightsApartFromTheGradient() {
        Tensor p = param(2f);
        Adam opt = Adam.adamW(List.of(p), 0.1, 0.5);
        setGrad(p, 3f);
        opt.step();
        // p (1 - lr wd) - lr sign(g) = 2 * 0.95 - 0.1
        assertEquals(1.8, p.data()[0], 1e-6);

        Tensor q = param(2f);
        Adam l2 = new Adam(List.of(new ParamGroup("g", List.of(q), 0.1, 0.5)), 0.9, 0.999, 1e-8, false);
        setGrad(q, -3f);
        l2.step();
        // L2: g' = -3 + 0.5*2 = -2, so the first step is +lr
        assertEquals(2.1, q.data()[0], 1e-6);
    }

    @Test
    void parameterGroupsUseTheirOwnLearningRatesAndTheScheduleScale() {
        Tensor a = param(1f);
        Tensor b = param(1f);
        Sgd opt = new Sgd(List.of(new ParamGroup("a", List.of(a), 0.1, 0), new ParamGroup("b", List.of(b), 1.0, 0)), 0);
        opt.setLrScale(0.5);
        setGrad(a, 1f);
        setGrad(b, 1f);
        opt.step();
        assertEquals(0.95, a.data()[0], 1e-7);
        assertEquals(0.5, b.data()[0], 1e-7);
    }

    @Test
    void parametersWithoutGradientAreLeftAloneWithTheirState() {
        Tensor a = param(1f);
        Tensor b = param(5f);
        Adam opt = Adam.of(List.of(a, b), 0.1);
        setGrad(a, 1f);
        opt.step();
        assertEquals(5f, b.data()[0]);
        assertNull(opt.state().get("m.1"));
        assertTrue(opt.state().containsKey("m.0"));
    }

    @Test
    void adamStateRoundTripContinuesBitForBit() {
        Tensor a = param(1f, 2f, 3f);
        Adam opt = Adam.of(List.of(a), 0.05);
        float[][] grads = {{1f, -2f, 0.5f}, {0.3f, 0.1f, -1f}, {-0.7f, 2f, 0.2f}};
        setGrad(a, grads[0]);
        opt.step();
        Map<String, Tensor> state = opt.state();
        float[] saved = a.data().clone();
        for (int s = 1; s < 3; s++) {
            setGrad(a, grads[s]);
            opt.step();
        }
        Tensor b = Tensor.of(saved, 3).requiresGrad(true);
        Adam resumed = Adam.of(List.of(b), 0.05);
        resumed.loadState(state);
        for (int s = 1; s < 3; s++) {
            setGrad(b, grads[s]);
            resumed.step();
        }
        assertArrayEquals(a.data(), b.data());
        assertEquals(3, resumed.steps());
    }

    @Test
    void clipGlobalNormScalesAllGradientsToTheLimit() {
        Tensor a = param(0f, 0f);
        Tensor b = param(0f);
        setGrad(a, 3f, 0f);
        setGrad(b, 4f);
        double norm = GradClip.clipGlobalNorm(List.of(a, b), 1.0);
        assertEquals(5.0, norm, 1e-9);
        assertEquals(0.6, a.grad().data()[0], 1e-6);
        assertEquals(0.8, b.grad().data()[0], 1e-6);
        double again = GradClip.clipGlobalNorm(List.of(a, b), 10.0);
        assertEquals(1.0, again, 1e-5);
        assertEquals(0.6, a.grad().data()[0], 1e-6); // below the limit: unchanged
    }

    @Test
    void warmupInverseSqrtRisesLinearlyThenDecays() {
        Schedule s = Schedule.warmupInverseSqrt(4);
        assertEquals(0.25, s.scale(0), 1e-12);
        assertEquals(0.75, s.scale(2), 1e-12);
        assertEquals(1.0, s.scale(3), 1e-12);
        assertEquals(Math.sqrt(4.0 / 16), s.scale(15), 1e-12);
        assertEquals(1.0, Schedule.constant().scale(1000));
    }

    @Test
    void badArgumentsAreRejectedWithTheirValue() {
        Tensor a = param(1f);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new ParamGroup("g", List.of(a), -0.1, 0));
        assertTrue(e.getMessage().contains("lr") && e.getMessage().contains("-0.1"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new Sgd(List.of(ParamGroup.of(List.of(a), 0.1)), 1.0));
        assertTrue(e.getMessage().contains("momentum") && e.getMessage().contains("1.0"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> new Adam(List.of(ParamGroup.of(List.of(a), 0.1)), 0.9, 1.5, 1e-8, false));
        assertTrue(e.getMessage().contains("betas") && e.getMessage().contains("1.5"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> GradClip.clipGlobalNorm(List.of(a), 0));
        assertTrue(e.getMessage().contains("maxNorm"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Schedule.warmupInverseSqrt(-1));
        assertTrue(e.getMessage().contains("-1"), e.getMessage());
    }
}
