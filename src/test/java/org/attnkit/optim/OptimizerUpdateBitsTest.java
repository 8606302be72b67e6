package org.attnkit.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;
import org.attnkit.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The CPU updates, bit for bit, against the formulas as written in the optimizers' Javadoc (double
 * arithmetic, Java's evaluation order, float storage): the specification that {@code cuda/optim.cu}
 * reproduces and that the GPU test compares with. Keeps the CPU path's bits fixed now that the
 * optimizers also dispatch to the device.
 */
class OptimizerUpdateBitsTest {
    private static float[] values(long seed, int n, double scale) {
        float[] v = Tensor.randn(seed, n).toArray();
        for (int i = 0; i < n; i++) {
            v[i] = (float) (v[i] * scale);
        }
        return v;
    }

    @ParameterizedTest(name = "decoupled={0} wd={1}")
    @CsvSource({"false,0.0", "false,0.01", "true,0.0", "true,0.05"})
    void adamMatchesItsFormulaBitForBit(boolean decoupled, double wd) {
        int n = 37;
        double lr = 0.003;
        double b1 = 0.9;
        double b2 = 0.98;
        double eps = 1e-8;
        float[] w = values(1, n, 1);
        Tensor p = Tensor.of(w, n).requiresGrad(true);
        Adam adam = new Adam(List.of(new ParamGroup("g", List.of(p), lr, wd)), b1, b2, eps, decoupled);
        float[] m = new float[n];
        float[] v = new float[n];
        for (int t = 1; t <= 4; t++) {
            float[] g = values(10 + t, n, t == 3 ? 1e-6 : 0.5);
            p.zeroGrad();
            p.accumulateGrad(Tensor.of(g, n));
            adam.setLrScale(t == 2 ? 0.5 : 1.0);
            adam.step();
            double lrt = lr * (t == 2 ? 0.5 : 1.0);
            double c1 = 1 - Math.pow(b1, t);
            double c2 = 1 - Math.pow(b2, t);
            for (int i = 0; i < n; i++) {
                double wi = w[i];
                double gi = g[i];
                if (decoupled) {
                    wi = wi * (1 - lrt * wd);
                } else {
                    gi = gi + wd * wi;
                }
                m[i] = (float) (b1 * m[i] + (1 - b1) * gi);
                v[i] = (float) (b2 * v[i] + (1 - b2) * gi * gi);
                w[i] = (float) (wi - lrt * (m[i] / c1) / (Math.sqrt(v[i] / c2) + eps));
            }
            assertArrayEquals(w, p.data(), "step " + t);
        }
        Map<String, Tensor> state = adam.state();
        assertArrayEquals(m, state.get("m.0").toArray());
        assertArrayEquals(v, state.get("v.0").toArray());
        assertEquals(4.0, state.get("t.0").item());
    }

    @ParameterizedTest(name = "momentum={0} wd={1}")
    @CsvSource({"0.0,0.0", "0.0,0.01", "0.9,0.0", "0.9,0.001"})
    void sgdMatchesItsFormulaBitForBit(double momentum, double wd) {
        int n = 29;
        double lr = 0.05;
        float[] w = values(2, n, 1);
        Tensor p = Tensor.of(w, n).requiresGrad(true);
        Sgd sgd = new Sgd(List.of(new ParamGroup("g", List.of(p), lr, wd)), momentum);
        float[] buf = null;
        for (int t = 1; t <= 4; t++) {
            float[] g = values(20 + t, n, 0.5);
            p.zeroGrad();
            p.accumulateGrad(Tensor.of(g, n));
            sgd.step();
            boolean first = buf == null;
            if (momentum > 0 && first) {
                buf = new float[n];
            }
            for (int i = 0; i < n; i++) {
                double gi = g[i] + wd * w[i];
                if (momentum > 0) {
                    buf[i] = (float) (first ? gi : momentum * buf[i] + gi);
                    gi = buf[i];
                }
                w[i] = (float) (w[i] - lr * gi);
            }
            assertArrayEquals(w, p.data(), "step " + t);
        }
    }

    @Test
    void clippingScalesEveryGradientByOneCoefficient() {
        Tensor a = Tensor.of(new float[] {3f, 0f}, 2).requiresGrad(true);
        Tensor b = Tensor.of(new float[] {4f}, 1).requiresGrad(true);
        a.accumulateGrad(Tensor.of(new float[] {3f, 0f}, 2));
        b.accumulateGrad(Tensor.of(new float[] {4f}, 1));
        double norm = GradClip.clipGlobalNorm(List.of(a, b), 1.0);
        assertEquals(5.0, norm);
        double coef = 1.0 / (5.0 + 1e-6);
        assertArrayEquals(new float[] {(float) (3f * coef), 0f}, a.grad().toArray());
        assertArrayEquals(new float[] {(float) (4f * coef)}, b.grad().toArray());
    }

    /** The CUDA kernels' element code (cuda/optim.cu), run on the host, against the Java update. */
    @ParameterizedTest(name = "{0}")
    @CsvSource({"adam", "adamw", "adam-wd", "sgd", "sgd-wd", "sgd-momentum", "sgd-momentum-wd"})
    void theKernelsElementCodeGivesTheJavaUpdatesBits(String kind) {
        org.junit.jupiter.api.Assumptions.assumeTrue(
                org.attnkit.backend.cuda.Cuda.status().nativeLibrary().startsWith("loaded"), "the JNI library was not built");
        int n = 257;
        float[] w0 = values(3, n, 1);
        Tensor p = Tensor.of(w0, n).requiresGrad(true);
        boolean adam = kind.startsWith("adam");
        double wd = kind.endsWith("wd") || kind.equals("adamw") ? 0.01 : 0.0;
        double momentum = kind.contains("momentum") ? 0.9 : 0.0;
        Optimizer opt = adam ? new Adam(List.of(new ParamGroup("g", List.of(p), 0.003, wd)), 0.9, 0.98, 1e-8,
                kind.equals("adamw"))
                : new Sgd(List.of(new ParamGroup("g", List.of(p), 0.05, wd)), momentum);
        float[] w = w0.clone();
        float[] m = new float[n];
        float[] v = new float[n];
        float[] buf = momentum > 0 ? new float[n] : null;
        for (int t = 1; t <= 5; t++) {
            float[] g = values(30 + t, n, t == 3 ? 1e-7 : 0.5);
            p.zeroGrad();
            p.accumulateGrad(Tensor.of(g, n));
            double lrScale = t == 2 ? 0.25 : 1.0;
            opt.setLrScale(lrScale);
            opt.step();
            int rc;
            if (adam) {
                rc = org.attnkit.backend.cuda.AttnkitNative.attnkit_adam_host(w, g, m, v, n, 0.003 * lrScale, 0.9, 0.98,
                        1e-8, wd, kind.equals("adamw") ? 1 : 0, 1 - Math.pow(0.9, t), 1 - Math.pow(0.98, t));
            } else {
                rc = org.attnkit.backend.cuda.AttnkitNative.attnkit_sgd_host(w, g, buf, n, 0.05 * lrScale, momentum, wd,
                        t == 1 ? 1 : 0);
            }
            assertEquals(0, rc);
            assertArrayEquals(p.data(), w, kind + " step " + t);
        }
    }
}
