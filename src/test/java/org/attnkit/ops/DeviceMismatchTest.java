package org.attnkit.ops;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.function.Function;
import java.util.stream.Stream;
import org.attnkit.ops.arith.Add;
import org.attnkit.ops.attention.Attention;
import org.attnkit.ops.dynamicconv.DynamicConv;
import org.attnkit.ops.layernorm.LayerNorm;
import org.attnkit.ops.lightconv.LightConv;
import org.attnkit.ops.linear.Linear;
import org.attnkit.ops.mae.HeadMixture;
import org.attnkit.ops.mae.MaeGate;
import org.attnkit.ops.mae.Membership;
import org.attnkit.ops.matmul.MatMul;
import org.attnkit.tensor.Device;
import org.attnkit.tensor.Tensor;
import org.attnkit.testing.DeviceStandIn;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Mixing devices in one op is an error naming the argument and both devices, raised before any
 * kernel runs. The second device is a storage that only claims to live on cuda:0 (no GPU is needed,
 * and none of its memory is ever read: the check must come first).
 */
class DeviceMismatchTest {
    private static Tensor onCuda(int... shape) {
        return DeviceStandIn.on(Device.cuda(0), shape);
    }

    static Stream<Arguments> ops() {
        Tensor x = Tensor.randn(1, 2, 8, 8);
        return Stream.of(
                Arguments.of("lightconv", "weight", (Function<Tensor, Tensor>) w ->
                        LightConv.apply(x, onCuda(2, 3), null, LightConv.Options.centered(3))),
                Arguments.of("dynamicconv", "weight", (Function<Tensor, Tensor>) w ->
                        DynamicConv.apply(x, null, onCuda(6, 8), null, 2, DynamicConv.Options.centered(3))),
                Arguments.of("linear", "weight", (Function<Tensor, Tensor>) w -> Linear.apply(x, onCuda(4, 8), null)),
                Arguments.of("matmul", "b", (Function<Tensor, Tensor>) w -> MatMul.apply(x, onCuda(2, 8, 3))),
                Arguments.of("attention", "k", (Function<Tensor, Tensor>) w ->
                        Attention.apply(x, onCuda(2, 8, 8), x, 2, false, null)),
                Arguments.of("mae gate", "w1", (Function<Tensor, Tensor>) w ->
                        MaeGate.apply(x, onCuda(4, 8), null, Tensor.randn(2, 2, 4), null, false)),
                Arguments.of("head mixture", "gate", (Function<Tensor, Tensor>) w ->
                        HeadMixture.apply(x, onCuda(2, 2), Membership.dropOne(2))),
                Arguments.of("layernorm", "gamma", (Function<Tensor, Tensor>) w -> LayerNorm.apply(x, onCuda(8), null)),
                Arguments.of("add", "b", (Function<Tensor, Tensor>) w -> Add.apply(x, onCuda(8))));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("ops")
    void mixedDevicesAreRejectedBeforeAnyKernel(String op, String argument, Function<Tensor, Tensor> call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> call.apply(null));
        String m = e.getMessage();
        assertTrue(m.contains(argument) && m.contains("cuda:0") && m.contains("cpu"), op + ": " + m);
    }
}
