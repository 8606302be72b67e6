package org.attnkit.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Function;
import java.util.stream.Stream;
import org.attnkit.ops.linear.Linear;
import org.attnkit.ops.linear.LinearEpilogue;
import org.attnkit.ops.linear.LinearEpilogue.Activation;
import org.attnkit.ops.matmul.MatMul;
import org.attnkit.tensor.Device;
import org.attnkit.tensor.Tensor;
import org.attnkit.testing.Compare;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The tensor-core GEMMs (TF32, BF16; cuda/gemm_mma.cu) and the fused epilogues (SIMT and mma) against the
 * reference. Three kinds of check:
 * <ul>
 * <li>small-integer operands, exact in tf32 and bf16 and summed exactly in fp32: every precision must give the
 *     reference's values exactly, on shapes that cut the 128 x 128 x 32 tiles everywhere, with transposed
 *     reads (the backward) and batches: this pins the fragment layouts and the boundary handling;</li>
 * <li>random operands against a host model of the rounding (tf32 round-half-away, bf16 round-half-even, then
 *     exact products summed): fp32-accumulation tolerance, which pins the rounding modes;</li>
 * <li>random operands against the unrounded reference within the documented error of
 *     {@link GemmPrecision#expectedError}.</li>
 * </ul>
 * The index math of both kernel files was also checked on the host by bench/tools/gemm_index_sim.py (an emulation
 * of the staging, the PTX fragment and ldmatrix layouts and the epilogues against numpy).
 * Needs a GPU: skipped where {@link Cuda#isAvailable()} is false. Ran and passed on an H200 (2026-12-04).
 */
@Tag("gpu")
class CudaGemmMmaEquivalenceTest {
    private static final Device GPU = Device.cuda(0);
    private GemmPrecision saved;

    @BeforeEach
    void needsAGpu() {
        assumeTrue(Cuda.isAvailable(), () -> "no CUDA: " + Cuda.status().reason());
        saved = Cuda.gemmPrecision();
    }

    @AfterEach
    void restorePrecision() {
        if (saved != null) {
            Cuda.setGemmPrecision(saved);
        }
    }

    /** Seeded integers in [-4, 4]: exact in tf32 and bf16; their products sum exactly in fp32 here. */
    static Tensor ints(long seed, int... shape) {
        int n = 1;
        for (int d : shape) {
            n *= d;
        }
        float[] v = new float[n];
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = 0; i < n; i++) {
            v[i] = r.nextInt(9) - 4;
        }
        return Tensor.wrap(v, shape);
    }

    static Stream<Arguments> matMulShapes() {
        List<Arguments> cases = new ArrayList<>();
        // batch (0 = rank 2), M, K, N: tile edges of 128 x 128 x 32 (and the SIMT 64 x 64 x 16), odd sizes
        int[][] fixed = {{0, 1, 1, 1}, {0, 128, 32, 128}, {0, 129, 33, 127}, {0, 15, 300, 7}, {3, 33, 40, 129},
            {2, 1, 70, 1}, {0, 200, 5, 260}, {5, 8, 64, 8}, {0, 3, 0, 4}, {0, 257, 31, 255}};
        for (GemmPrecision p : GemmPrecision.values()) {
            for (int[] f : fixed) {
                cases.add(Arguments.of(p, f[0], f[1], f[2], f[3]));
            }
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0} batch={1} M={2} K={3} N={4}")
    @MethodSource("matMulShapes")
    void integerMatMulIsExactAtEveryPrecision(GemmPrecision precision, int batch, int m, int k, int n) {
        Cuda.setGemmPrecision(precision);
        int[] sa = batch == 0 ? new int[] {m, k} : new int[] {batch, m, k};
        int[] sb = batch == 0 ? new int[] {k, n} : new int[] {batch, k, n};
        int[] sc = batch == 0 ? new int[] {m, n} : new int[] {batch, m, n};
        long seed = 31L * m + 7L * k + n;
        CudaTesting.compareWithReference(new Tensor[] {ints(seed, sa), ints(seed + 1, sb)}, ints(seed + 2, sc),
                t -> MatMul.apply(t[0], t[1]), 0, 0, 0, 0, "a", "b");
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(GemmPrecision.class)
    void integerLinearIsExactAtEveryPrecision(GemmPrecision precision) {
        Cuda.setGemmPrecision(precision);
        Tensor x = ints(1, 3, 70, 45);
        Tensor w = ints(2, 130, 45);
        Tensor b = ints(3, 130);
        CudaTesting.compareWithReference(new Tensor[] {x, w, b}, ints(4, 3, 70, 130),
                t -> Linear.apply(t[0], t[1], t[2]), 0, 0, 0, 0, "x", "weight", "bias");
    }

    /** tf32: keep 10 mantissa bits, round half away from zero (cvt.rna). */
    static float tf32(float v) {
        int b = Float.floatToRawIntBits(v);
        return Float.intBitsToFloat((b + 0x1000) & 0xFFFFE000);
    }

    /** bf16: keep 7 mantissa bits, round half to even (__float2bfloat16_rn), for finite v. */
    static float bf16(float v) {
        int b = Float.floatToRawIntBits(v);
        int lsb = (b >>> 16) & 1;
        return Float.intBitsToFloat((b + 0x7FFF + lsb) & 0xFFFF0000);
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(value = GemmPrecision.class, names = {"TF32", "BF16"})
    void randomProductsEqualTheRoundedOperandsSummedInFp32(GemmPrecision precision) {
        Cuda.setGemmPrecision(precision);
        int m = 150;
        int k = 333;
        int n = 140;
        Tensor a = Tensor.randn(5, m, k);
        Tensor b = Tensor.randn(6, k, n);
        float[] av = a.toArray();
        float[] bv = b.toArray();
        double[] want = new double[m * n];
        double maxAbs = 1;
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int l = 0; l < k; l++) {
                    float x = av[i * k + l];
                    float y = bv[l * n + j];
                    s += precision == GemmPrecision.TF32 ? (double) tf32(x) * tf32(y) : (double) bf16(x) * bf16(y);
                }
                want[i * n + j] = s;
                maxAbs = Math.max(maxAbs, Math.abs(s));
            }
        }
        float[] got = MatMul.apply(a.to(GPU), b.to(GPU)).to(Device.CPU).toArray();
        // Exact products of rounded operands, summed in fp32: |err| <= K * 2^-24 * sum |terms| at worst.
        double tol = k * Math.pow(2, -24) * maxAbs * 4;
        for (int i = 0; i < want.length; i++) {
            assertEquals(want[i], got[i], tol, "element " + i);
        }
    }

    static Stream<Arguments> randomShapes() {
        List<Arguments> cases = new ArrayList<>();
        SplittableRandom r = new SplittableRandom(17);
        for (GemmPrecision p : new GemmPrecision[] {GemmPrecision.TF32, GemmPrecision.BF16}) {
            for (int i = 0; i < 6; i++) {
                cases.add(Arguments.of(p, 1 + r.nextInt(300), 1 + r.nextInt(600), 1 + r.nextInt(300)));
            }
        }
        return cases.stream();
    }

    /** Unit-scale operands: |err| within a few times the documented expected error (scaled by max |r|). */
    @ParameterizedTest(name = "{0} M={1} K={2} N={3}")
    @MethodSource("randomShapes")
    void randomMatMulIsWithinTheDocumentedError(GemmPrecision precision, int m, int k, int n) {
        Cuda.setGemmPrecision(precision);
        // Compare scales atol by max(1, max |r|) >= about sqrt(K) here, so 3 * unit covers 3 * unit * sqrt(K).
        double atol = 3 * precision.expectedError(1);
        CudaTesting.compareWithReference(new Tensor[] {Tensor.randn(m, m, k), Tensor.randn(k, k, n)},
                Tensor.randn(n, m, n), t -> MatMul.apply(t[0], t[1]), atol, 0, atol, 0, "a", "b");
    }

    static Stream<Arguments> epilogues() {
        List<Arguments> cases = new ArrayList<>();
        for (GemmPrecision p : GemmPrecision.values()) {
            for (Activation act : Activation.values()) {
                cases.add(Arguments.of(p, act, new int[] {2, 70}, 45, 130, true));
                cases.add(Arguments.of(p, act, new int[] {129}, 33, 258, false));
                cases.add(Arguments.of(p, act, new int[] {5}, 0, 6, true)); // in = 0: y = f(bias)
                cases.add(Arguments.of(p, act, new int[] {3, 1}, 17, 2, true));
            }
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0} {1} lead={2} in={3} out={4} bias={5}")
    @MethodSource("epilogues")
    void fusedEpiloguesMatchTheReference(GemmPrecision precision, Activation act, int[] lead, int in, int out,
            boolean withBias) {
        Cuda.setGemmPrecision(precision);
        int[] sx = java.util.Arrays.copyOf(lead, lead.length + 1);
        sx[lead.length] = in;
        int[] sy = java.util.Arrays.copyOf(lead, lead.length + 1);
        sy[lead.length] = act == Activation.GLU ? out / 2 : out;
        long seed = 7L * in + out + act.ordinal();
        Tensor x;
        Tensor w;
        Tensor b;
        if (act == Activation.RELU && precision != GemmPrecision.FP32) {
            // ReLU's gradient is a step: a pre-activation within the precision's rounding of 0 takes the other
            // branch on the GPU than in the reference, and its whole dy row drops out of dx. Inputs on a grid
            // that TF32 and BF16 hold exactly keep every pre-activation exact and away from 0: x and w odd
            // multiples of 1/8, so over an odd number of input features (45, 33, 17) sum x*w is an odd multiple
            // of 1/64; bias odd multiples of 1/128, so adding it never reaches 0 either (in = 0: z = bias).
            x = oddMultiples(seed, 1 / 8f, sx);
            w = oddMultiples(seed + 1, 1 / 8f, out, in);
            b = withBias ? oddMultiples(seed + 2, 1 / 128f, out) : null;
        } else {
            x = Tensor.randn(seed, sx);
            w = scaled(Tensor.randn(seed + 1, out, in), 1 / Math.sqrt(Math.max(1, in)));
            b = withBias ? Tensor.randn(seed + 2, out) : null;
        }
        double fwd = precision == GemmPrecision.FP32 ? 2e-5 : 3 * precision.expectedError(1);
        double bwd = precision == GemmPrecision.FP32 ? 2e-4 : 3 * precision.expectedError(1);
        Function<Tensor[], Tensor> op = t -> LinearEpilogue.apply(t[0], t[1], t[2], act);
        CudaTesting.compareWithReference(new Tensor[] {x, w, b}, Tensor.randn(seed + 3, sy), op, fwd, 1e-4, bwd,
                1e-3, "x", "weight", "bias");
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(GemmPrecision.class)
    void resultsAreDeterministic(GemmPrecision precision) {
        Cuda.setGemmPrecision(precision);
        Tensor x = Tensor.randn(1, 4, 300, 96).to(GPU);
        Tensor w = Tensor.randn(2, 160, 96).to(GPU);
        Tensor dy = Tensor.randn(3, 4, 300, 80).to(GPU);
        float[] first = null;
        for (int i = 0; i < 3; i++) {
            Tensor wi = w.to(Device.CPU).to(GPU).requiresGrad(true);
            Tensor y = LinearEpilogue.apply(x, wi, null, Activation.GLU);
            y.backward(dy);
            float[] yv = y.to(Device.CPU).toArray();
            float[] dw = wi.grad().to(Device.CPU).toArray();
            float[] both = new float[yv.length + dw.length];
            System.arraycopy(yv, 0, both, 0, yv.length);
            System.arraycopy(dw, 0, both, yv.length, dw.length);
            if (first == null) {
                first = both;
            } else {
                assertArrayEquals(first, both);
            }
        }
    }

    @Test
    void conversionsRoundToNearestEvenAndBack() {
        float[] v = Tensor.randn(9, 1001).toArray();
        v[0] = 1.00390625f;        // 1 + 2^-8: a tie, rounds to even (1.0)
        v[1] = 1.01171875f;        // 1 + 3 * 2^-8: a tie, rounds to even (1 + 2^-6)
        v[2] = -0f;
        v[3] = 3.3895314e38f;      // the largest bf16
        Tensor in = Tensor.wrap(v, v.length).to(GPU);
        Tensor bf = CudaTensors.empty(GPU, (v.length + 1) / 2);
        Tensor back = CudaTensors.empty(GPU, v.length);
        CudaTensors.enter(GPU);
        NativeCalls.check("to bf16", AttnkitNative.attnkit_f32_to_bf16(CudaTensors.address(bf, "bf"),
                CudaTensors.address(in, "in"), v.length));
        NativeCalls.check("to f32", AttnkitNative.attnkit_bf16_to_f32(CudaTensors.address(back, "back"),
                CudaTensors.address(bf, "bf"), v.length));
        float[] got = back.to(Device.CPU).toArray();
        for (int i = 0; i < v.length; i++) {
            assertEquals(Float.floatToRawIntBits(bf16(v[i])), Float.floatToRawIntBits(got[i]), "element " + i);
        }
    }

    /**
     * attnkit_gemm_bf16 (bf16 buffers, fp32 or bf16 out, shared weight stored [N, K]) against the host rounding
     * model: K = 80 takes the cp.async kernel (K % 8 == 0), K = 77 and K = 8 * 65 + 3 the staging kernel.
     */
    @ParameterizedTest(name = "K={0}")
    @org.junit.jupiter.params.provider.ValueSource(ints = {77, 80, 523})
    void bf16BuffersMatchTheRoundingModel(int k) {
        int batch = 3;
        int m = 130;
        int n = 129;
        float[] a = Tensor.randn(1, batch, m, k).toArray();
        float[] w = Tensor.randn(2, n, k).toArray(); // shared, stored [N, K] (trans_w 1)
        float[] bias = Tensor.randn(3, n).toArray();
        long ab = bf16Buffer(a);
        long wb = bf16Buffer(w);
        Tensor biasDev = Tensor.wrap(bias, n).to(GPU);
        Tensor c32 = CudaTensors.empty(GPU, batch, m, n);
        Tensor c16 = CudaTensors.empty(GPU, (batch * m * n + 1) / 2);
        Tensor c16f = CudaTensors.empty(GPU, batch, m, n);
        CudaTensors.enter(GPU);
        NativeCalls.check("gemm bf16", AttnkitNative.attnkit_gemm_bf16(CudaTensors.address(c32, "c"), ab, wb,
                CudaTensors.address(biasDev, "bias"), batch, m, n, k, 0, 1, 1, 0));
        NativeCalls.check("gemm bf16", AttnkitNative.attnkit_gemm_bf16(CudaTensors.address(c16, "c"), ab, wb,
                CudaTensors.address(biasDev, "bias"), batch, m, n, k, 0, 1, 1, 1));
        NativeCalls.check("to f32", AttnkitNative.attnkit_bf16_to_f32(CudaTensors.address(c16f, "c"),
                CudaTensors.address(c16, "c16"), (long) batch * m * n));
        float[] got32 = c32.to(Device.CPU).toArray();
        float[] got16 = c16f.to(Device.CPU).toArray();
        for (int bi = 0; bi < batch; bi++) {
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double s = bias[j];
                    double mag = Math.abs(bias[j]);
                    for (int l = 0; l < k; l++) {
                        double t = (double) bf16(a[(bi * m + i) * k + l]) * bf16(w[j * k + l]);
                        s += t;
                        mag += Math.abs(t);
                    }
                    int at = (bi * m + i) * n + j;
                    assertEquals(s, got32[at], 4 * k * Math.pow(2, -24) * mag + 1e-6, "fp32 out, element " + at);
                    assertEquals(s, got16[at], Math.abs(s) * Math.pow(2, -8) + 4 * k * Math.pow(2, -24) * mag + 1e-6,
                            "bf16 out, element " + at);
                }
            }
        }
    }

    /**
     * The cp.async kernel (w stored [N, K], K % 8 == 0) and the staging kernel (the same w stored [K, N]) run the
     * same mma sequence on the same values in the same order: the same bits, on tile-cutting shapes.
     */
    @ParameterizedTest(name = "M={0} N={1} K={2}")
    @org.junit.jupiter.params.provider.CsvSource({"130,129,96", "1,1,8", "256,384,512", "77,260,40"})
    void theCpAsyncBf16KernelEqualsTheStagingKernelBitForBit(int m, int n, int k) {
        float[] a = Tensor.randn(1, m, k).toArray();
        float[] w = Tensor.randn(2, n, k).toArray();
        float[] wt = new float[k * n];
        for (int j = 0; j < n; j++) {
            for (int l = 0; l < k; l++) {
                wt[l * n + j] = w[j * k + l];
            }
        }
        long ab = bf16Buffer(a);
        long wb = bf16Buffer(w);
        long wtb = bf16Buffer(wt);
        Tensor fast = CudaTensors.empty(GPU, m, n);
        Tensor staged = CudaTensors.empty(GPU, m, n);
        CudaTensors.enter(GPU);
        NativeCalls.check("gemm bf16", AttnkitNative.attnkit_gemm_bf16(CudaTensors.address(fast, "c"), ab, wb, 0, 1,
                m, n, k, 0, 1, 0, 0));
        NativeCalls.check("gemm bf16", AttnkitNative.attnkit_gemm_bf16(CudaTensors.address(staged, "c"), ab, wtb, 0,
                1, m, n, k, 0, 0, 0, 0));
        assertArrayEquals(staged.to(Device.CPU).toArray(), fast.to(Device.CPU).toArray());
    }

    /** share_w 1 in attnkit_gemm_ex: every batch index multiplies the same w, at every precision and epilogue. */
    @ParameterizedTest(name = "{0}")
    @EnumSource(GemmPrecision.class)
    void aSharedWeightServesEveryBatchIndex(GemmPrecision precision) {
        int batch = 4;
        int m = 33;
        int k = 40;
        int n = 66;
        Tensor a = ints(1, batch, m, k);
        Tensor w = ints(2, k, n);
        Tensor y = CudaTensors.empty(GPU, batch, m, n / 2);
        Tensor z = CudaTensors.empty(GPU, batch, m, n);
        Tensor ad = a.to(GPU);
        Tensor wd = w.to(GPU);
        CudaTensors.enter(GPU);
        NativeCalls.check("gemm_ex", AttnkitNative.attnkit_gemm_ex(CudaTensors.address(y, "y"),
                CudaTensors.address(z, "z"), CudaTensors.address(ad, "a"), CudaTensors.address(wd, "w"), 0, batch, m,
                n, k, 0, 0, 1, precision.code(), AttnkitNative.EPILOGUE_GLU));
        float[] zv = z.to(Device.CPU).toArray();
        float[] yv = y.to(Device.CPU).toArray();
        float[] av = a.toArray();
        float[] wv = w.toArray();
        for (int bi = 0; bi < batch; bi++) {
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double s = 0;
                    for (int l = 0; l < k; l++) {
                        s += av[(bi * m + i) * k + l] * wv[l * n + j];
                    }
                    assertEquals(s, zv[(bi * m + i) * n + j], 0, "z");
                }
                for (int j = 0; j < n / 2; j++) {
                    double za = zv[(bi * m + i) * n + j];
                    double zg = zv[(bi * m + i) * n + n / 2 + j];
                    assertEquals(za / (1 + Math.exp(-zg)), yv[(bi * m + i) * (n / 2) + j], 1e-5 * (1 + Math.abs(za)),
                            "y");
                }
            }
        }
    }

    /**
     * Odd multiples of {@code unit} from -15 to 15 units, seeded: exact in TF32 and BF16 like {@link #ints}, but
     * never 0 or even, which the ReLU case needs to keep its pre-activations off 0.
     */
    private static Tensor oddMultiples(long seed, float unit, int... shape) {
        java.util.Random r = new java.util.Random(seed);
        float[] v = new float[java.util.Arrays.stream(shape).reduce(1, (p, q) -> p * q)];
        for (int i = 0; i < v.length; i++) {
            v[i] = (2 * (r.nextInt(16) - 8) + 1) * unit;
        }
        return Tensor.of(v, shape);
    }

    private static Tensor scaled(Tensor t, double f) {
        float[] v = t.toArray();
        for (int i = 0; i < v.length; i++) {
            v[i] *= (float) f;
        }
        return Tensor.wrap(v, t.shape().toArray());
    }

    private static long bf16Buffer(float[] v) {
        Tensor f32 = Tensor.wrap(v, v.length).to(GPU);
        Tensor bf = CudaTensors.empty(GPU, (v.length + 1) / 2);
        CudaTensors.enter(GPU);
        NativeCalls.check("to bf16", AttnkitNative.attnkit_f32_to_bf16(CudaTensors.address(bf, "bf"),
                CudaTensors.address(f32, "f32"), v.length));
        KEEP.add(bf);
        return CudaTensors.address(bf, "bf");
    }

    /** Keeps the bf16 buffers reachable (the Cleaner would free them) until the test class is done. */
    private static final List<Tensor> KEEP = new ArrayList<>();
}
