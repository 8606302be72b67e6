package org.attnkit.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.function.Function;
import org.attnkit.ops.glu.Glu;
import org.attnkit.ops.layernorm.LayerNorm;
import org.attnkit.ops.loss.CrossEntropy;
import org.attnkit.ops.loss.Reduction;
import org.attnkit.ops.softmax.LogSoftmax;
import org.attnkit.ops.softmax.Softmax;
import org.attnkit.tensor.Device;
import org.attnkit.tensor.Tensor;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Softmax, log-softmax, LayerNorm and GLU on CUDA against the scalar reference, forward and backward,
 * on every axis and on lines shorter than, equal to and longer than a warp. Needs a GPU: skipped where
 * {@link Cuda#isAvailable()} is false.
 */
@Tag("gpu")
class CudaRowwiseEquivalenceTest {
    private static final Device GPU = Device.cuda(0);
    private static final double FWD_ATOL = 2e-5;
    private static final double FWD_RTOL = 2e-4;
    private static final double BWD_ATOL = 1e-4;
    private static final double BWD_RTOL = 2e-3;

    @BeforeEach
    void needsAGpu() {
        assumeTrue(Cuda.isAvailable(), () -> "no CUDA: " + Cuda.status().reason());
    }

    @ParameterizedTest(name = "softmax [{0},{1},{2}] dim={3}")
    @CsvSource({"2,3,5,-1", "4,33,1,1", "1,1,1000,2", "3,7,64,0", "2,100,3,1", "5,1,32,-1", "1,2,65,2"})
    void softmaxAndLogSoftmaxMatchTheReference(int a, int b, int c, int dim) {
        long seed = 100L * a + 10L * b + c + dim;
        Tensor x = scaled(Tensor.randn(seed, a, b, c), 3f);
        Tensor dy = Tensor.randn(seed + 1, a, b, c);
        compare(new Tensor[] {x}, dy, t -> Softmax.apply(t[0], dim), "x");
        compare(new Tensor[] {x}, dy, t -> LogSoftmax.apply(t[0], dim), "x");
    }

    @ParameterizedTest(name = "layer_norm rows={0} D={1} affine={2}")
    @CsvSource({"1,1,true", "7,5,true", "33,64,false", "300,96,true", "2,1000,true", "1,31,false"})
    void layerNormMatchesTheReference(int rows, int d, boolean affine) {
        long seed = 7L * rows + d;
        Tensor[] in = {Tensor.randn(seed, rows, d), affine ? Tensor.randn(seed + 1, d) : null,
            affine ? Tensor.randn(seed + 2, d) : null};
        compare(in, Tensor.randn(seed + 3, rows, d), t -> LayerNorm.apply(t[0], t[1], t[2]), "x", "gamma", "beta");
    }

    @ParameterizedTest(name = "glu [{0},{1},{2}] dim={3}")
    @CsvSource({"2,3,8,-1", "2,6,5,1", "4,3,2,2", "2,7,9,0", "1,1,2,-1", "3,40,300,2"})
    void gluMatchesTheReference(int a, int b, int c, int dim) {
        long seed = 31L * a + b + c + dim;
        Tensor x = scaled(Tensor.randn(seed, a, b, c), 4f);
        int[] ys = {a, b, c};
        ys[dim < 0 ? dim + 3 : dim] /= 2;
        compare(new Tensor[] {x}, Tensor.randn(seed + 1, ys), t -> Glu.apply(t[0], dim), "x");
    }

    @ParameterizedTest(name = "cross_entropy rows={0} C={1} {2} ignoreAll={3}")
    @CsvSource({"1,1,MEAN,false", "7,5,MEAN,false", "33,100,SUM,false", "64,1000,NONE,false", "5,3,MEAN,true",
        "5,3,SUM,true", "300,33,MEAN,false"})
    void crossEntropyMatchesTheReference(int rows, int classes, Reduction reduction, boolean ignoreAll) {
        long seed = 13L * rows + classes;
        java.util.SplittableRandom r = new java.util.SplittableRandom(seed);
        int[] targets = new int[rows];
        for (int n = 0; n < rows; n++) {
            // About one row in five ignored (the default -100), all of them with ignoreAll.
            targets[n] = ignoreAll || r.nextInt(5) == 0 ? CrossEntropy.DEFAULT_IGNORE_INDEX : r.nextInt(classes);
        }
        Tensor x = scaled(Tensor.randn(seed, 1, rows, classes), 3f);
        Tensor dLoss = reduction == Reduction.NONE ? Tensor.randn(seed + 1, 1, rows) : Tensor.of(new float[] {1.7f});
        compare(new Tensor[] {x}, dLoss, t -> CrossEntropy.apply(t[0], targets, CrossEntropy.DEFAULT_IGNORE_INDEX,
                reduction), "logits");
    }

    @Test
    void layerNormParameterGradientsAreDeterministic() {
        Tensor x = Tensor.randn(1, 2000, 96).to(GPU);
        Tensor dy = Tensor.randn(2, 2000, 96).to(GPU);
        float[] first = null;
        for (int i = 0; i < 3; i++) {
            Tensor g = Tensor.randn(3, 96).to(GPU).requiresGrad(true);
            LayerNorm.apply(x, g, null).backward(dy);
            float[] dg = g.grad().to(Device.CPU).toArray();
            if (first == null) {
                first = dg;
            } else {
                assertArrayEquals(first, dg);
            }
        }
    }

    private static void compare(Tensor[] inputs, Tensor dy, Function<Tensor[], Tensor> op, String... names) {
        CudaTesting.compareWithReference(inputs, dy, op, FWD_ATOL, FWD_RTOL, BWD_ATOL, BWD_RTOL, names);
    }

    private static Tensor scaled(Tensor t, float s) {
        float[] d = t.toArray();
        for (int i = 0; i < d.length; i++) {
            d[i] *= s;
        }
        return Tensor.wrap(d, t.shape().toArray());
    }
}
