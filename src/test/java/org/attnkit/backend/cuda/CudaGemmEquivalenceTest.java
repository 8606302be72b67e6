package org.attnkit.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Function;
import java.util.stream.Stream;
import org.attnkit.ops.linear.Linear;
import org.attnkit.ops.matmul.MatMul;
import org.attnkit.tensor.Device;
import org.attnkit.tensor.Tensor;
import org.attnkit.testing.Compare;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * MatMul and Linear on the CUDA GEMM against the scalar reference, forward and every gradient, on
 * shapes that cut the 64 x 64 x 16 tiles everywhere (1, 15, 17, 63, 65, ...), transposed reads of
 * both operands in the backward, batches and empty dims. Needs a GPU: skipped where
 * {@link Cuda#isAvailable()} is false.
 */
@Tag("gpu")
class CudaGemmEquivalenceTest {
    private static final Device GPU = Device.cuda(0);
    // |err| of a K-term float32 dot product ~ K * 2^-24 * max|output| at worst; Compare scales atol by it.
    private static final double FWD_ATOL = 2e-5;
    private static final double FWD_RTOL = 2e-4;
    private static final double BWD_ATOL = 1e-4;
    private static final double BWD_RTOL = 2e-3;

    private GemmPrecision saved;

    /** These tolerances are fp32's: pin the FP32 precision whatever -Dattnkit.cuda.gemm says. */
    @BeforeEach
    void needsAGpu() {
        assumeTrue(Cuda.isAvailable(), () -> "no CUDA: " + Cuda.status().reason());
        saved = Cuda.setGemmPrecision(GemmPrecision.FP32);
    }

    @org.junit.jupiter.api.AfterEach
    void restorePrecision() {
        if (saved != null) {
            Cuda.setGemmPrecision(saved);
        }
    }

    static Stream<Arguments> matMulShapes() {
        List<Arguments> cases = new ArrayList<>();
        // batch (0 = unbatched rank 2), M, K, N
        int[][] fixed = {{0, 1, 1, 1}, {0, 64, 16, 64}, {0, 65, 17, 63}, {0, 15, 300, 7}, {3, 33, 40, 129},
            {2, 1, 70, 1}, {0, 200, 5, 130}, {5, 8, 64, 8}, {0, 3, 0, 4}, {0, 0, 5, 4}, {2, 4, 5, 0}};
        for (int[] f : fixed) {
            cases.add(Arguments.of(f[0], f[1], f[2], f[3]));
        }
        SplittableRandom r = new SplittableRandom(11);
        for (int i = 0; i < 10; i++) {
            cases.add(Arguments.of(r.nextInt(4), 1 + r.nextInt(150), 1 + r.nextInt(150), 1 + r.nextInt(150)));
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "matmul batch={0} M={1} K={2} N={3}")
    @MethodSource("matMulShapes")
    void matMulMatchesTheReference(int batch, int M, int K, int N) {
        long seed = 13L * M + 7L * K + N + batch;
        int[] sa = batch == 0 ? new int[] {M, K} : new int[] {batch, M, K};
        int[] sb = batch == 0 ? new int[] {K, N} : new int[] {batch, K, N};
        int[] sc = batch == 0 ? new int[] {M, N} : new int[] {batch, M, N};
        Tensor[] in = {Tensor.randn(seed, sa), Tensor.randn(seed + 1, sb)};
        compare(in, Tensor.randn(seed + 2, sc), t -> MatMul.apply(t[0], t[1]), "a", "b");
    }

    static Stream<Arguments> linearShapes() {
        List<Arguments> cases = new ArrayList<>();
        // leading dims, in, out, bias
        cases.add(Arguments.of(new int[] {1}, 1, 1, true));
        cases.add(Arguments.of(new int[] {2, 40}, 32, 96, true));
        cases.add(Arguments.of(new int[] {3, 17}, 65, 63, false));
        cases.add(Arguments.of(new int[] {130}, 7, 200, true));
        cases.add(Arguments.of(new int[] {}, 19, 5, true));
        cases.add(Arguments.of(new int[] {2, 3, 11}, 64, 64, true));
        cases.add(Arguments.of(new int[] {1, 500}, 24, 48, true)); // dW sums 500 positions
        cases.add(Arguments.of(new int[] {0, 4}, 6, 5, true));     // no positions: dW = 0, db = 0
        cases.add(Arguments.of(new int[] {3, 4}, 0, 5, true));     // in = 0: y = bias
        return cases.stream();
    }

    @ParameterizedTest(name = "linear lead={0} in={1} out={2} bias={3}")
    @MethodSource("linearShapes")
    void linearMatchesTheReference(int[] lead, int in, int out, boolean withBias) {
        long seed = 3L * in + out + lead.length;
        int[] sx = java.util.Arrays.copyOf(lead, lead.length + 1);
        sx[lead.length] = in;
        int[] sy = java.util.Arrays.copyOf(lead, lead.length + 1);
        sy[lead.length] = out;
        Tensor[] inputs = {Tensor.randn(seed, sx), Tensor.randn(seed + 1, out, in),
            withBias ? Tensor.randn(seed + 2, out) : null};
        compare(inputs, Tensor.randn(seed + 3, sy), t -> Linear.apply(t[0], t[1], t[2]), "x", "weight", "bias");
    }

    @Test
    void linearWeightGradientIsDeterministic() {
        Tensor x = Tensor.randn(1, 8, 300, 96).to(GPU);
        Tensor dy = Tensor.randn(2, 8, 300, 80).to(GPU);
        float[] first = null;
        for (int i = 0; i < 3; i++) {
            Tensor w = Tensor.randn(3, 80, 96).to(GPU).requiresGrad(true);
            Tensor b = Tensor.randn(4, 80).to(GPU).requiresGrad(true);
            Linear.apply(x, w, b).backward(dy);
            float[] dw = w.grad().to(Device.CPU).toArray();
            float[] db = b.grad().to(Device.CPU).toArray();
            float[] both = new float[dw.length + db.length];
            System.arraycopy(dw, 0, both, 0, dw.length);
            System.arraycopy(db, 0, both, dw.length, db.length);
            if (first == null) {
                first = both;
            } else {
                assertArrayEquals(first, both);
            }
        }
    }

    private static void compare(Tensor[] inputs, Tensor dy, Function<Tensor[], Tensor> op, String... names) {
        CudaTesting.compareWithReference(inputs, dy, op, FWD_ATOL, FWD_RTOL, BWD_ATOL, BWD_RTOL, names);
    }

}
