package org.attnkit.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Function;
import org.attnkit.backend.Backend;
import org.attnkit.nn.LayerConfig;
import org.attnkit.nn.Linear;
import org.attnkit.nn.MixerType;
import org.attnkit.nn.TokenClassifier;
import org.attnkit.ops.arith.Add;
import org.attnkit.ops.arith.Div;
import org.attnkit.ops.arith.Mul;
import org.attnkit.ops.arith.Sub;
import org.attnkit.ops.dropout.Dropout;
import org.attnkit.ops.layernorm.LayerNorm;
import org.attnkit.ops.layernorm.ResidualLayerNorm;
import org.attnkit.ops.reduce.Mean;
import org.attnkit.ops.reduce.Sum;
import org.attnkit.ops.shape.Concat;
import org.attnkit.ops.shape.Permute;
import org.attnkit.ops.shape.Slice;
import org.attnkit.optim.Adam;
import org.attnkit.optim.GradClip;
import org.attnkit.optim.Optimizer;
import org.attnkit.optim.ParamGroup;
import org.attnkit.optim.Sgd;
import org.attnkit.tensor.Device;
import org.attnkit.tensor.Tensor;
import org.attnkit.testing.Compare;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The operators and updates added for a whole training step on the device (issue 5, cuda-graph) against
 * the CPU: shape copies (exact), broadcasting Add/Sub/Mul/Div, Sum/Mean over inner dims, the fused residual
 * LayerNorm (against the reference, and bit for bit against the unfused CUDA kernels), Adam/AdamW/SGD
 * (bit for bit against the CPU update), gradient clipping, and {@code Module.to}. Needs a GPU: skipped where
 * {@link Cuda#isAvailable()} is false. Ran and passed on an H200 (2026-12-04).
 */
@Tag("gpu")
class CudaGraphEquivalenceTest {
    private static final Device GPU = CudaTesting.GPU;

    @BeforeEach
    void needsAGpu() {
        assumeTrue(Cuda.isAvailable(), () -> "no CUDA: " + Cuda.status().reason());
    }

    private static int[] parse(String s) {
        if (s.equals("scalar")) {
            return new int[0];
        }
        return Arrays.stream(s.split("x")).mapToInt(Integer::parseInt).toArray();
    }

    private static int[] ints(String s) {
        return Arrays.stream(s.split(",")).mapToInt(Integer::parseInt).toArray();
    }

    // ---------------------------------------------------------------- shape copies: exact

    @ParameterizedTest(name = "permute {0} by {1}")
    @CsvSource({"2x3,'1,0'", "2x3x4,'2,0,1'", "2x3x4x5,'0,2,1,3'", "1x7x1x3,'3,2,1,0'", "5,'0'",
        "2x1x3x1x2x1x2x2,'7,6,5,4,3,2,1,0'", "33x65,'1,0'"})
    void permuteIsAnExactCopyBothWays(String shape, String perm) {
        int[] s = parse(shape);
        int[] p = ints(perm);
        Tensor x = Tensor.randn(shape.hashCode(), s);
        Tensor y = Compare.on(Backend.REF, () -> Permute.apply(x, p));
        CudaTesting.compareWithReference(new Tensor[] {x}, Tensor.randn(7, y.shape().toArray()),
                t -> Permute.apply(t[0], p), 0, 0, 0, 0, "x");
    }

    @ParameterizedTest(name = "slice {0} dim {1} [{2}, {3})")
    @CsvSource({"4x5,0,1,3", "4x5,1,0,5", "4x5,-1,2,2", "2x3x7,1,1,2", "2x3x7,2,3,7", "9,0,4,9"})
    void sliceIsAnExactCopyAndItsBackwardAScatter(String shape, int dim, int start, int end) {
        Tensor x = Tensor.randn(shape.hashCode() + dim, parse(shape));
        Tensor y = Compare.on(Backend.REF, () -> Slice.apply(x, dim, start, end));
        CudaTesting.compareWithReference(new Tensor[] {x}, Tensor.randn(8, y.shape().toArray()),
                t -> Slice.apply(t[0], dim, start, end), 0, 0, 0, 0, "x");
    }

    @ParameterizedTest(name = "concat dim {0} of {1}, {2}, {3}")
    @CsvSource({"0,2x3,1x3,4x3", "1,2x3,2x1,2x5", "-1,2x3x4,2x3x1,2x3x7", "1,2x0x4,2x3x4,2x2x4"})
    void concatIsAnExactCopyAndItsBackwardSlices(int dim, String a, String b, String c) {
        Tensor[] in = {Tensor.randn(1, parse(a)), Tensor.randn(2, parse(b)), Tensor.randn(3, parse(c))};
        Tensor y = Compare.on(Backend.REF, () -> Concat.apply(dim, in));
        CudaTesting.compareWithReference(in, Tensor.randn(9, y.shape().toArray()), t -> Concat.apply(dim, t),
                0, 0, 0, 0, "a", "b", "c");
    }

    // ---------------------------------------------------------------- broadcasting arithmetic

    @ParameterizedTest(name = "{0} a={1} b={2}")
    @CsvSource({"sub,2x3,2x3", "div,2x3,2x3", "add,4x3,4x1", "mul,4x3,4x1", "sub,4x3,4x1", "div,4x3,4x1",
        "add,2x1x3,2x5x3", "mul,2x1x3,2x5x3", "sub,3,2x3", "div,3,2x3", "sub,5x1x4,1x6x1", "div,5x1x4,1x6x1",
        "mul,2x3,scalar", "div,scalar,2x3", "sub,1x1,1x1", "add,7x1x1x2,3x1", "div,64x65,65"})
    void broadcastingArithmeticMatchesTheReference(String op, String sa, String sb) {
        Tensor a = Tensor.randn(sa.hashCode(), parse(sa));
        Tensor b = Tensor.randn(sb.hashCode() + 1, parse(sb));
        if (op.equals("div")) {
            b = awayFromZero(b);
        }
        Function<Tensor[], Tensor> f = switch (op) {
            case "add" -> t -> Add.apply(t[0], t[1]);
            case "sub" -> t -> Sub.apply(t[0], t[1]);
            case "mul" -> t -> Mul.apply(t[0], t[1]);
            default -> t -> Div.apply(t[0], t[1]);
        };
        Tensor[] in = {a, b};
        Tensor c = Compare.on(Backend.REF, () -> f.apply(in));
        CudaTesting.compareWithReference(in, Tensor.randn(11, c.shape().toArray()), f, 1e-6, 1e-6, 1e-5, 1e-4, "a", "b");
    }

    @Test
    void theScalarVariantsRunOnTheDevice() {
        Tensor x = Tensor.randn(3, 4, 5);
        CudaTesting.compareWithReference(new Tensor[] {x}, Tensor.randn(4, 4, 5), t -> Mul.apply(t[0], 0.125), 0, 0,
                0, 0, "x");
        CudaTesting.compareWithReference(new Tensor[] {x}, Tensor.randn(4, 4, 5), t -> Sub.apply(t[0], 2.5), 1e-7, 1e-7,
                0, 0, "x");
        CudaTesting.compareWithReference(new Tensor[] {x}, Tensor.randn(4, 4, 5), t -> Div.apply(t[0], 3.0), 1e-7, 1e-6,
                1e-7, 1e-6, "x");
    }

    private static Tensor awayFromZero(Tensor b) {
        float[] v = b.toArray();
        for (int i = 0; i < v.length; i++) {
            v[i] = v[i] >= 0 ? v[i] + 0.5f : v[i] - 0.5f;
        }
        return Tensor.of(v, b.shape().toArray());
    }

    // ---------------------------------------------------------------- reductions over any dims

    @ParameterizedTest(name = "{0} of {1} over {2} keepDim={3}")
    @CsvSource({"sum,2x3x4,'1',false", "mean,16x12x32,'1',true", "sum,2x3x4,'0,2',false", "mean,3x4x5x6,'1,3',true",
        "sum,3x4x5x6,'0,2',false", "mean,2x1000x3,'1',false", "sum,5x0x3,'1',false"})
    void sumAndMeanOverInnerDimsMatchTheReference(String op, String shape, String dims, boolean keepDim) {
        int[] d = ints(dims);
        Tensor x = Tensor.randn(shape.hashCode(), parse(shape));
        Function<Tensor[], Tensor> f = op.equals("sum") ? t -> Sum.apply(t[0], d, keepDim)
                : t -> Mean.apply(t[0], d, keepDim);
        Tensor y = Compare.on(Backend.REF, () -> f.apply(new Tensor[] {x}));
        // The device sums in double in the reference's order: as close as one float rounding.
        CudaTesting.compareWithReference(new Tensor[] {x}, Tensor.randn(5, y.shape().toArray()), f, 1e-7, 1e-6, 1e-7,
                1e-6, "x");
    }

    // ---------------------------------------------------------------- residual + dropout + LayerNorm

    @ParameterizedTest(name = "rows {0} D {1} p={2} affine={3}")
    @CsvSource({"1,1,0.0,true", "6,32,0.1,true", "33,65,0.3,false", "128,512,0.1,true", "5,1000,0.5,true",
        "300,31,0.0,false"})
    void theFusedResidualLayerNormMatchesTheReference(int rows, int d, double p, boolean affine) {
        Tensor[] in = {Tensor.randn(rows, rows, d), Tensor.randn(rows + 1, rows, d),
            affine ? Tensor.randn(rows + 2, d) : null, affine ? Tensor.randn(rows + 3, d) : null};
        Tensor u = Tensor.randn(rows + 4, rows, d);
        Function<Tensor[], Tensor> normalized = t -> ResidualLayerNorm.apply(t[0], t[1], p, 9, 4, t[2], t[3]).normalized();
        CudaTesting.compareWithReference(in, Tensor.randn(rows + 5, rows, d), normalized, 2e-5, 2e-4, 1e-4, 2e-3,
                "x", "residual", "gamma", "beta");
        // Both outputs feeding the loss (Pre-LN): sum's own gradient adds to the one through the norm.
        Function<Tensor[], Tensor> both = t -> {
            ResidualLayerNorm.Result r = ResidualLayerNorm.apply(t[0], t[1], p, 9, 4, t[2], t[3]);
            Tensor uu = u.device().equals(t[0].device()) ? u : u.to(t[0].device());
            return Add.apply(r.normalized(), Mul.apply(r.sum(), uu));
        };
        CudaTesting.compareWithReference(in, Tensor.randn(rows + 6, rows, d), both, 2e-5, 2e-4, 1e-4, 2e-3,
                "x", "residual", "gamma", "beta");
    }

    @ParameterizedTest(name = "rows {0} D {1} p={2}")
    @CsvSource({"7,33,0.2", "64,512,0.1", "3,5,0.0"})
    void theFusedKernelGivesTheBitsOfTheUnfusedCudaKernels(int rows, int d, double p) {
        Tensor x = Tensor.randn(1, rows, d).to(GPU);
        Tensor res = Tensor.randn(2, rows, d).to(GPU);
        Tensor gamma = Tensor.randn(3, d).to(GPU);
        Tensor beta = Tensor.randn(4, d).to(GPU);
        ResidualLayerNorm.Result fused = ResidualLayerNorm.apply(x, res, p, 5, 6, gamma, beta);
        Tensor sum = Add.apply(res, Dropout.apply(x, p, 5, 6));
        Tensor y = LayerNorm.apply(sum, gamma, beta);
        assertArrayEquals(sum.to(Device.CPU).toArray(), fused.sum().to(Device.CPU).toArray(), "sum");
        assertArrayEquals(y.to(Device.CPU).toArray(), fused.normalized().to(Device.CPU).toArray(), "normalized");
    }

    // ---------------------------------------------------------------- optimizers

    /** Parameters of awkward sizes with seeded values, on the CPU and the same values on the GPU. */
    private static List<Tensor> params(boolean gpu) {
        List<Tensor> ps = new ArrayList<>();
        int[] sizes = {1, 31, 256, 1000, 4099};
        for (int i = 0; i < sizes.length; i++) {
            Tensor p = Tensor.randn(100 + i, sizes[i]);
            ps.add((gpu ? p.to(GPU) : p).requiresGrad(true));
        }
        return ps;
    }

    private static void setGrads(List<Tensor> ps, int step, double scale) {
        for (int i = 0; i < ps.size(); i++) {
            Tensor p = ps.get(i);
            float[] g = Tensor.randn(1000L * step + i, p.numel()).toArray();
            for (int j = 0; j < g.length; j++) {
                g[j] = (float) (g[j] * scale);
            }
            Tensor gt = Tensor.of(g, p.numel());
            p.zeroGrad();
            p.accumulateGrad(p.device().isCpu() ? gt : gt.to(p.device()));
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"adam", "adamw", "adam-wd", "sgd", "sgd-momentum-wd"})
    void theDeviceUpdateGivesTheBitsOfTheCpuUpdate(String kind) {
        List<Tensor> cpu = params(false);
        List<Tensor> gpu = params(true);
        Function<List<Tensor>, Optimizer> make = ps -> switch (kind) {
            case "adam" -> new Adam(List.of(ParamGroup.of(ps, 0.01)), 0.9, 0.98, 1e-8, false);
            case "adamw" -> new Adam(List.of(new ParamGroup("g", ps, 0.01, 0.05)), 0.9, 0.999, 1e-8, true);
            case "adam-wd" -> new Adam(List.of(new ParamGroup("g", ps, 0.003, 0.01)), 0.8, 0.99, 1e-6, false);
            case "sgd" -> Sgd.of(ps, 0.1);
            default -> new Sgd(List.of(new ParamGroup("g", ps, 0.05, 1e-3)), 0.9);
        };
        Optimizer oc = make.apply(cpu);
        Optimizer og = make.apply(gpu);
        for (int step = 1; step <= 5; step++) {
            // Tiny gradients on step 3: Adam's eps and bias corrections decide the update there.
            double scale = step == 3 ? 1e-7 : 1.0;
            setGrads(cpu, step, scale);
            setGrads(gpu, step, scale);
            oc.setLrScale(step / 5.0);
            og.setLrScale(step / 5.0);
            oc.step();
            og.step();
            for (int i = 0; i < cpu.size(); i++) {
                assertArrayEquals(cpu.get(i).data(), gpu.get(i).to(Device.CPU).toArray(), kind + " step " + step
                        + " parameter " + i);
            }
        }
        // The state comes back to the host with the same bits, and restores on the device.
        Map<String, Tensor> sc = oc.state();
        Map<String, Tensor> sg = og.state();
        assertEquals(sc.keySet(), sg.keySet());
        sc.forEach((k, v) -> assertArrayEquals(v.toArray(), sg.get(k).toArray(), k));
        List<Tensor> gpu2 = new ArrayList<>();
        for (Tensor p : gpu) {
            gpu2.add(p.to(Device.CPU).to(GPU).requiresGrad(true));
        }
        Optimizer restored = make.apply(gpu2);
        restored.loadState(sg);
        setGrads(cpu, 6, 1.0);
        setGrads(gpu2, 6, 1.0);
        oc.step();
        restored.step();
        for (int i = 0; i < cpu.size(); i++) {
            assertArrayEquals(cpu.get(i).data(), gpu2.get(i).to(Device.CPU).toArray(), kind + " after restore " + i);
        }
    }

    @Test
    void clippingOnTheDeviceMatchesTheCpu() {
        for (double max : new double[] {0.5, 1e6}) {
            List<Tensor> cpu = params(false);
            List<Tensor> gpu = params(true);
            setGrads(cpu, 1, 1.0);
            setGrads(gpu, 1, 1.0);
            double nc = GradClip.clipGlobalNorm(cpu, max);
            double ng = GradClip.clipGlobalNorm(gpu, max);
            // Another summation order of the squares: the norm agrees to double rounding, the scaled floats
            // to one float rounding.
            assertEquals(nc, ng, 1e-12 * nc);
            for (int i = 0; i < cpu.size(); i++) {
                Compare.close("grad " + i, cpu.get(i).grad(), gpu.get(i).grad().to(Device.CPU), 0, 2e-7);
                assertEquals(GPU, gpu.get(i).grad().device());
            }
        }
    }

    // ---------------------------------------------------------------- Module.to

    @Test
    void moduleToMovesEveryParameterAndRebindsTheFields() {
        TokenClassifier m = new TokenClassifier(new SplittableRandom(3), MixerType.MAE, 8, 3,
                new LayerConfig(16, 32, 4, true, 0.1, 3), new int[] {3}, false, false);
        Map<String, Tensor> before = m.namedParameters();
        Map<String, float[]> values = new java.util.LinkedHashMap<>();
        before.forEach((k, v) -> values.put(k, v.toArray()));
        assertSame(m, m.to(GPU));
        Map<String, Tensor> after = m.namedParameters();
        assertEquals(before.keySet(), after.keySet());
        after.forEach((k, v) -> {
            assertEquals(GPU, v.device(), k);
            assertTrue(v.isLeaf() && v.requiresGrad(), k);
            assertArrayEquals(values.get(k), v.to(Device.CPU).toArray(), k);
        });
        Linear lin = new Linear(new SplittableRandom(1), 4, 5, true);
        lin.to(GPU);
        assertSame(lin.weight, lin.namedParameters().get("weight"));
        assertSame(lin.bias, lin.namedParameters().get("bias"));
        assertEquals(GPU, lin.weight.device());
        m.to(Device.CPU);
        m.namedParameters().forEach((k, v) -> assertArrayEquals(values.get(k), v.toArray(), k));
    }

    @Test
    void aDeviceModelsStateDictIsOnTheHostAndLoadsBackIntoTheDevice() {
        TokenClassifier m = new TokenClassifier(new SplittableRandom(3), MixerType.LIGHTCONV, 8, 3,
                new LayerConfig(16, 32, 4, true, 0.1, 3), new int[] {3}, false, false);
        Map<String, Tensor> host = m.stateDict();
        m.to(GPU);
        Map<String, Tensor> fromDevice = m.stateDict();
        assertEquals(host.keySet(), fromDevice.keySet());
        fromDevice.forEach((k, v) -> {
            assertEquals(Device.CPU, v.device(), k);
            assertArrayEquals(host.get(k).toArray(), v.toArray(), k);
        });
        // Overwrite the device parameters with other values, then load the saved state back into them.
        TokenClassifier other = new TokenClassifier(new SplittableRandom(4), MixerType.LIGHTCONV, 8, 3,
                new LayerConfig(16, 32, 4, true, 0.1, 3), new int[] {3}, false, false);
        m.loadStateDict(other.stateDict());
        m.namedParameters().forEach((k, v) -> assertArrayEquals(other.namedParameters().get(k).toArray(),
                v.to(Device.CPU).toArray(), k));
        m.loadStateDict(host);
        m.namedParameters().forEach((k, v) -> {
            assertEquals(GPU, v.device(), k);
            assertArrayEquals(host.get(k).toArray(), v.to(Device.CPU).toArray(), k);
        });
    }

    @Test
    void copyAndZerosStayOnTheDevice() {
        Tensor x = Tensor.wrap(new float[] {1, 2, 3, 4, 5, 6}, 2, 3).to(GPU);
        Tensor c = x.copy();
        assertEquals(GPU, c.device());
        assertArrayEquals(x.to(Device.CPU).toArray(), c.to(Device.CPU).toArray());
        Tensor z = Tensor.zeros(GPU, 4, 5);
        assertEquals(GPU, z.device());
        assertArrayEquals(new float[20], z.to(Device.CPU).toArray());
    }
}
