package org.attnkit.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.function.Function;
import org.attnkit.backend.Backend;
import org.attnkit.ops.activation.Gelu;
import org.attnkit.ops.activation.Relu;
import org.attnkit.ops.activation.Sigmoid;
import org.attnkit.ops.activation.Tanh;
import org.attnkit.ops.arith.Add;
import org.attnkit.ops.arith.Mul;
import org.attnkit.ops.dropout.Dropout;
import org.attnkit.ops.embedding.Embedding;
import org.attnkit.ops.reduce.Mean;
import org.attnkit.ops.reduce.Sum;
import org.attnkit.tensor.Device;
import org.attnkit.tensor.Tensor;
import org.attnkit.testing.Compare;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Dropout (the same elements dropped as on the CPU) and add/mul (equal shapes, a [C] vector on either
 * side) on CUDA against the reference, forward and backward. Needs a GPU: skipped where
 * {@link Cuda#isAvailable()} is false.
 */
@Tag("gpu")
class CudaPointwiseEquivalenceTest {
    private static final Device GPU = Device.cuda(0);

    @BeforeEach
    void needsAGpu() {
        assumeTrue(Cuda.isAvailable(), () -> "no CUDA: " + Cuda.status().reason());
    }

    @ParameterizedTest(name = "dropout n={0} p={1}")
    @CsvSource({"1,0.5", "1000,0.1", "4099,0.3", "70000,0.9", "33,1e-7"})
    void dropoutDropsTheSameElementsAsTheCpu(int n, double p) {
        Tensor x = Tensor.randn(n, 3, n);
        Tensor dy = Tensor.randn(n + 1, 3, n);
        compare(new Tensor[] {x}, dy, t -> Dropout.apply(t[0], p, 42, 7), "x");
        float[] ref = Compare.on(Backend.REF, () -> Dropout.apply(x, p, 42, 7)).toArray();
        float[] gpu = Dropout.apply(x.to(GPU), p, 42, 7).to(Device.CPU).toArray();
        float[] xv = x.toArray();
        int dropped = 0;
        for (int i = 0; i < ref.length; i++) {
            assertEquals(ref[i] == 0, gpu[i] == 0, "element " + i + " (x = " + xv[i] + ")");
            dropped += gpu[i] == 0 ? 1 : 0;
        }
        assertTrue(ref.length < 100 || dropped > 0, "nothing dropped");
    }

    @ParameterizedTest(name = "{0} a={1} b={2}")
    @CsvSource({"add,2x3,2x3", "mul,2x3,2x3", "add,4x7x65,65", "mul,4x7x65,65", "add,33,5x33", "mul,33,5x33",
        "mul,1x1,1x1", "add,300x96,96", "mul,3,3"})
    void addAndMulMatchTheReference(String op, String sa, String sb) {
        int[] shapeA = parse(sa);
        int[] shapeB = parse(sb);
        Tensor[] in = {Tensor.randn(sa.hashCode(), shapeA), Tensor.randn(sb.hashCode() + 1, shapeB)};
        int[] shapeC = shapeA.length >= shapeB.length ? shapeA : shapeB;
        Function<Tensor[], Tensor> f = op.equals("add") ? t -> Add.apply(t[0], t[1]) : t -> Mul.apply(t[0], t[1]);
        compare(in, Tensor.randn(op.hashCode(), shapeC), f, "a", "b");
    }

    @ParameterizedTest(name = "{0} of 4x7x65 over {1} keepDim={2}")
    @CsvSource({"sum,2,false", "mean,2,true", "sum,'1,2',false", "mean,'0,1,2',false", "sum,0,false",
        "mean,'0,1',true", "sum,'0,1,2',true"})
    void sumAndMeanMatchTheReference(String op, String dims, boolean keepDim) {
        int[] d = java.util.Arrays.stream(dims.split(",")).mapToInt(Integer::parseInt).toArray();
        Tensor x = Tensor.randn(dims.hashCode(), 4, 7, 65);
        Function<Tensor[], Tensor> f = op.equals("sum") ? t -> Sum.apply(t[0], d, keepDim)
                : t -> Mean.apply(t[0], d, keepDim);
        Tensor y = Compare.on(Backend.REF, () -> f.apply(new Tensor[] {x}));
        compare(new Tensor[] {x}, Tensor.randn(5, y.shape().toArray()), f, "x");
    }

    @ParameterizedTest(name = "embedding n={0} V={1} D={2}")
    @CsvSource({"1,1,1", "10,3,4", "500,50,33", "2000,7,96", "0,5,4"})
    void embeddingMatchesTheReference(int n, int vocab, int d) {
        java.util.SplittableRandom r = new java.util.SplittableRandom(n + vocab);
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) {
            ids[i] = r.nextInt(vocab); // many repeats: the backward sums them in index order
        }
        Tensor table = Tensor.randn(vocab + d, vocab, d);
        compare(new Tensor[] {table}, Tensor.randn(n + 1, n, d), t -> Embedding.apply(ids, t[0]), "table");
        // Deterministic: the same bits twice.
        Tensor dy = Tensor.randn(n + 2, n, d).to(GPU);
        float[][] grads = new float[2][];
        for (int i = 0; i < 2; i++) {
            Tensor w = table.to(GPU).requiresGrad(true);
            Embedding.apply(ids, w).backward(dy);
            grads[i] = w.grad().to(Device.CPU).toArray();
        }
        org.junit.jupiter.api.Assertions.assertArrayEquals(grads[0], grads[1]);
    }

    @ParameterizedTest(name = "{0} n={1}")
    @CsvSource({"tanh,1", "tanh,5000", "relu,1000", "sigmoid,4097", "gelu,3000", "gelu,7"})
    void activationsMatchTheReference(String op, int n) {
        // Wide inputs (sd 6) reach the saturated tails where tanh, sigmoid and the GELU erfc must not cancel.
        float[] v = Tensor.randn(n, n).toArray();
        for (int i = 0; i < v.length; i++) {
            v[i] *= 6f;
        }
        Tensor x = Tensor.of(v, n);
        Function<Tensor[], Tensor> f = switch (op) {
            case "tanh" -> t -> Tanh.apply(t[0]);
            case "relu" -> t -> Relu.apply(t[0]);
            case "sigmoid" -> t -> Sigmoid.apply(t[0]);
            default -> t -> Gelu.apply(t[0]);
        };
        compare(new Tensor[] {x}, Tensor.randn(n + 1, n), f, "x");
    }

    private static int[] parse(String s) {
        String[] parts = s.split("x");
        int[] out = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            out[i] = Integer.parseInt(parts[i]);
        }
        return out;
    }

    private static void compare(Tensor[] inputs, Tensor dy, Function<Tensor[], Tensor> op, String... names) {
        CudaTesting.compareWithReference(inputs, dy, op, 1e-6, 1e-6, 1e-5, 1e-4, names);
    }

}
