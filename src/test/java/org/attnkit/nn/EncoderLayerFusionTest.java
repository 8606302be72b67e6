package org.attnkit.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Function;
import org.attnkit.backend.Backend;
import org.attnkit.ops.activation.Relu;
import org.attnkit.ops.arith.Add;
import org.attnkit.ops.arith.Mul;
import org.attnkit.ops.reduce.Sum;
import org.attnkit.tensor.Tensor;
import org.attnkit.testing.Compare;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The encoder layer's fused pieces (ResidualLayerNorm for dropout + residual + LayerNorm, LinearEpilogue for
 * the feed-forward's ReLU) give exactly the bits of the unfused graph written out below (SPEC 5.3), forward
 * and every gradient, for Pre-LN and Post-LN, in training (dropout masks drawn) and evaluation, on the
 * reference and the SIMD backend.
 */
class EncoderLayerFusionTest {
    /** The layer as it was composed before the fusion: Dropout, Add, LayerNorm and Linear + Relu ops. */
    private static Tensor unfused(EncoderLayer l, Tensor x) {
        boolean pre = l.config.preNorm();
        Tensor h = l.mix(pre ? l.norm1.forward(x) : x);
        x = Add.apply(x, l.drop1.forward(h));
        if (!pre) {
            x = l.norm1.forward(x);
        }
        h = l.ff2.forward(Relu.apply(l.ff1.forward(pre ? l.norm2.forward(x) : x)));
        x = Add.apply(x, l.drop2.forward(h));
        return pre ? x : l.norm2.forward(x);
    }

    /** y and the gradients of sum(y * w) with respect to x and every parameter, as flat arrays by name. */
    private static Map<String, float[]> run(EncoderLayer l, Tensor x0, Tensor w, Function<Tensor, Tensor> f) {
        l.zeroGrad();
        Tensor x = x0.detach().requiresGrad(true);
        Tensor y = f.apply(x);
        Sum.apply(Mul.apply(y, w)).backward();
        Map<String, float[]> out = new LinkedHashMap<>();
        out.put("y", y.toArray());
        out.put("dx", x.grad().toArray());
        l.namedParameters().forEach((n, p) -> out.put("d" + n, p.grad().toArray()));
        return out;
    }

    @ParameterizedTest(name = "preNorm={0} training={1} {2}")
    @CsvSource({"true, true, REF", "false, true, REF", "true, false, REF", "false, false, REF",
        "true, true, SIMD", "false, true, SIMD", "true, false, SIMD", "false, false, SIMD"})
    void theFusedLayerGivesTheBitsOfTheUnfusedGraph(boolean preNorm, boolean training, Backend backend) {
        LayerConfig c = new LayerConfig(24, 40, 4, preNorm, 0.3, 7);
        EncoderLayer layer = new LightConvBlock(new SplittableRandom(5), c, 3, 0.1);
        layer.train(training);
        layer.setStep(11);
        Tensor x = Tensor.randn(1, 2, 9, 24);
        Tensor w = Tensor.randn(2, 2, 9, 24);
        Map<String, float[]> fused = Compare.on(backend, () -> run(layer, x, w, layer::forward));
        Map<String, float[]> plain = Compare.on(backend, () -> run(layer, x, w, t -> unfused(layer, t)));
        plain.forEach((name, v) -> assertArrayEquals(v, fused.get(name), name));
    }
}
