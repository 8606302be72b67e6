package org.attnkit.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Supplier;
import org.attnkit.nn.LayerConfig;
import org.attnkit.nn.MixerType;
import org.attnkit.nn.TokenClassifier;
import org.attnkit.ops.arith.Add;
import org.attnkit.ops.arith.Div;
import org.attnkit.ops.arith.Mul;
import org.attnkit.ops.arith.Sub;
import org.attnkit.ops.layernorm.ResidualLayerNorm;
import org.attnkit.ops.reduce.Mean;
import org.attnkit.ops.reduce.Sum;
import org.attnkit.ops.shape.Concat;
import org.attnkit.ops.shape.Permute;
import org.attnkit.ops.shape.Slice;
import org.attnkit.optim.Adam;
import org.attnkit.optim.GradClip;
import org.attnkit.optim.Sgd;
import org.attnkit.tensor.Device;
import org.attnkit.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * The pieces of a training step on the device (issue 5, cuda-graph) where there is no GPU: the native
 * checks of the strided-copy, broadcast, strided-sum, fused residual LayerNorm and optimizer entry points
 * (exact messages, before any CUDA call; valid arguments reach the runtime), the operators and optimizers
 * dispatching device tensors to the CUDA path (which then refuses with the probe's reason), and
 * {@code Module.to}.
 */
class CudaGraphWithoutGpuTest {
    private static final long BIG = 1L << 40;

    @Test
    void theStridedCopyChecksArgumentsBeforeAnyCudaCall() {
        assumeTrue(CudaTesting.jniBuilt(), "the JNI library was not built (no nvcc, or -P '!cuda')");
        int[] one = {1};
        CudaTesting.assertNativeRejects("attnkit_strided_copy: rank must be in [1, 8], got 0",
                () -> AttnkitNative.attnkit_strided_copy(8, 0, one, 8, 0, one, one, 0, 1.0));
        CudaTesting.assertNativeRejects("attnkit_strided_copy: rank must be in [1, 8], got 9",
                () -> AttnkitNative.attnkit_strided_copy(8, 0, new int[9], 8, 0, new int[9], new int[9], 9, 1.0));
        CudaTesting.assertNativeRejects("attnkit_strided_copy: dims[1] must be >= 0, got -3",
                () -> AttnkitNative.attnkit_strided_copy(8, 0, new int[2], 8, 0, new int[2], new int[] {2, -3}, 2, 1.0));
        CudaTesting.assertNativeRejects("attnkit_strided_copy: dims hold too many elements",
                () -> AttnkitNative.attnkit_strided_copy(8, 0, new int[2], 8, 0, new int[2],
                        new int[] {1 << 20, 1 << 21}, 2, 1.0));
        CudaTesting.assertNativeRejects("attnkit_strided_copy: out_strides[0] must be >= 0, got -1",
                () -> AttnkitNative.attnkit_strided_copy(8, 0, new int[] {-1}, 8, 0, one, one, 1, 1.0));
        CudaTesting.assertNativeRejects("attnkit_strided_copy: in_strides[0] must be >= 0, got -2",
                () -> AttnkitNative.attnkit_strided_copy(8, 0, one, 8, 0, new int[] {-2}, one, 1, 1.0));
        CudaTesting.assertNativeRejects("attnkit_strided_copy: out_offset must be in [0, " + BIG + "], got -1",
                () -> AttnkitNative.attnkit_strided_copy(8, -1, one, 8, 0, one, one, 1, 1.0));
        CudaTesting.assertNativeRejects("attnkit_strided_copy: in_offset must be in [0, " + BIG + "], got -5",
                () -> AttnkitNative.attnkit_strided_copy(8, 0, one, 8, -5, one, one, 1, 1.0));
        CudaTesting.assertNativeRejects("attnkit_strided_copy: scale must be finite, got nan",
                () -> AttnkitNative.attnkit_strided_copy(8, 0, one, 8, 0, one, one, 1, Double.NaN));
        CudaTesting.assertNativeRejects("attnkit_strided_copy: out must not be null",
                () -> AttnkitNative.attnkit_strided_copy(0, 0, one, 8, 0, one, one, 1, 1.0));
        CudaTesting.assertNativeRejects("attnkit_strided_copy: in must not be null",
                () -> AttnkitNative.attnkit_strided_copy(8, 0, one, 0, 0, one, one, 1, 1.0));
        // An empty copy makes no CUDA call.
        assertEquals(AttnkitNative.OK, AttnkitNative.attnkit_strided_copy(8, 0, new int[2], 8, 0, new int[2],
                new int[] {3, 0}, 2, 1.0));
        assumeFalse(Cuda.isAvailable(), "a GPU is present");
        assertReachesRuntime("attnkit_strided_copy", () -> AttnkitNative.attnkit_strided_copy(8, 4, new int[] {3, 1}, 8,
                0, new int[] {1, 2}, new int[] {2, 3}, 2, 0.5));
    }

    @Test
    void theBroadcastOpChecksArgumentsBeforeAnyCudaCall() {
        assumeTrue(CudaTesting.jniBuilt(), "the JNI library was not built (no nvcc, or -P '!cuda')");
        int[] s = {1, 0};
        int[] dims = {2, 3};
        CudaTesting.assertNativeRejects("attnkit_broadcast_op: op must be in [0, 5], got 6",
                () -> AttnkitNative.attnkit_broadcast_op(8, 8, s, 8, s, 0, null, dims, 2, 6));
        CudaTesting.assertNativeRejects("attnkit_broadcast_op: rank must be in [1, 8], got 9",
                () -> AttnkitNative.attnkit_broadcast_op(8, 8, new int[9], 8, new int[9], 0, null, new int[9], 9, 0));
        CudaTesting.assertNativeRejects("attnkit_broadcast_op: a_strides[1] must be >= 0, got -1",
                () -> AttnkitNative.attnkit_broadcast_op(8, 8, new int[] {0, -1}, 8, s, 0, null, dims, 2, 1));
        CudaTesting.assertNativeRejects("attnkit_broadcast_op: b_strides[0] must be >= 0, got -4",
                () -> AttnkitNative.attnkit_broadcast_op(8, 8, s, 8, new int[] {-4, 0}, 0, null, dims, 2, 2));
        CudaTesting.assertNativeRejects("attnkit_broadcast_op: b must not be null",
                () -> AttnkitNative.attnkit_broadcast_op(8, 8, s, 0, s, 0, null, dims, 2, 3));
        CudaTesting.assertNativeRejects("attnkit_broadcast_op: c must not be null",
                () -> AttnkitNative.attnkit_broadcast_op(8, 8, s, 8, s, 0, s, dims, 2, 5));
        CudaTesting.assertNativeRejects("attnkit_broadcast_op: a must not be null",
                () -> AttnkitNative.attnkit_broadcast_op(8, 0, s, 8, s, 0, null, dims, 2, 0));
        assertEquals(AttnkitNative.OK, AttnkitNative.attnkit_broadcast_op(8, 8, s, 8, s, 0, null, new int[] {0, 3}, 2, 0));
        assumeFalse(Cuda.isAvailable(), "a GPU is present");
        // The negation needs no b and no c.
        assertReachesRuntime("attnkit_broadcast_op",
                () -> AttnkitNative.attnkit_broadcast_op(8, 8, s, 0, null, 0, null, dims, 2, 4));
        assertReachesRuntime("attnkit_broadcast_op",
                () -> AttnkitNative.attnkit_broadcast_op(8, 8, s, 8, s, 8, s, dims, 2, 5));
    }

    @Test
    void theStridedSumChecksArgumentsBeforeAnyCudaCall() {
        assumeTrue(CudaTesting.jniBuilt(), "the JNI library was not built (no nvcc, or -P '!cuda')");
        int[] two = {2};
        CudaTesting.assertNativeRejects("attnkit_strided_sum: rank must be in [0, 8], got 9",
                () -> AttnkitNative.attnkit_strided_sum(8, 8, new int[9], new int[9], 9, two, two, 1, 1.0));
        CudaTesting.assertNativeRejects("attnkit_strided_sum: rank must be in [0, 8], got -1",
                () -> AttnkitNative.attnkit_strided_sum(8, 8, two, two, 1, two, two, -1, 1.0));
        CudaTesting.assertNativeRejects("attnkit_strided_sum: kept_strides[0] must be >= 0, got -1",
                () -> AttnkitNative.attnkit_strided_sum(8, 8, two, new int[] {-1}, 1, two, two, 1, 1.0));
        CudaTesting.assertNativeRejects("attnkit_strided_sum: red_strides[0] must be >= 0, got -7",
                () -> AttnkitNative.attnkit_strided_sum(8, 8, two, two, 1, two, new int[] {-7}, 1, 1.0));
        CudaTesting.assertNativeRejects("attnkit_strided_sum: dims[0] must be >= 0, got -2",
                () -> AttnkitNative.attnkit_strided_sum(8, 8, new int[] {-2}, two, 1, two, two, 1, 1.0));
        CudaTesting.assertNativeRejects("attnkit_strided_sum: scale must not be NaN",
                () -> AttnkitNative.attnkit_strided_sum(8, 8, two, two, 1, two, two, 1, Double.NaN));
        CudaTesting.assertNativeRejects("attnkit_strided_sum: out must not be null",
                () -> AttnkitNative.attnkit_strided_sum(0, 8, two, two, 1, two, two, 1, 1.0));
        CudaTesting.assertNativeRejects("attnkit_strided_sum: in must not be null",
                () -> AttnkitNative.attnkit_strided_sum(8, 0, two, two, 1, two, two, 1, 1.0));
        // No outputs: nothing to do, no CUDA call.
        assertEquals(AttnkitNative.OK, AttnkitNative.attnkit_strided_sum(8, 8, new int[] {0}, two, 1, two, two, 1, 1.0));
        assumeFalse(Cuda.isAvailable(), "a GPU is present");
        // Everything reduced into one output (kept rank 0), and an empty reduction (in may then be null).
        assertReachesRuntime("attnkit_strided_sum",
                () -> AttnkitNative.attnkit_strided_sum(8, 8, new int[0], new int[0], 0, two, new int[] {1}, 1, 0.5));
        assertReachesRuntime("attnkit_strided_sum",
                () -> AttnkitNative.attnkit_strided_sum(8, 0, two, new int[] {1}, 1, new int[] {0}, two, 1, 1.0));
    }

    @Test
    void theFusedResidualLayerNormChecksArgumentsBeforeAnyCudaCall() {
        assumeTrue(CudaTesting.jniBuilt(), "the JNI library was not built (no nvcc, or -P '!cuda')");
        String fn = "attnkit_residual_layernorm_forward: ";
        CudaTesting.assertNativeRejects(fn + "rows must be >= 1, got 0",
                () -> AttnkitNative.attnkit_residual_layernorm_forward(8, 8, 8, 8, 8, 8, 0, 0, 0, 4, 1e-5, 0, 1, 2));
        CudaTesting.assertNativeRejects(fn + "D must be >= 1, got -1",
                () -> AttnkitNative.attnkit_residual_layernorm_forward(8, 8, 8, 8, 8, 8, 0, 0, 3, -1, 1e-5, 0, 1, 2));
        CudaTesting.assertNativeRejects(fn + "eps must be > 0 and finite, got 0",
                () -> AttnkitNative.attnkit_residual_layernorm_forward(8, 8, 8, 8, 8, 8, 0, 0, 3, 4, 0, 0, 1, 2));
        CudaTesting.assertNativeRejects(fn + "drop_p must be in [0, 1), got 1",
                () -> AttnkitNative.attnkit_residual_layernorm_forward(8, 8, 8, 8, 8, 8, 0, 0, 3, 4, 1e-5, 1, 1, 2));
        CudaTesting.assertNativeRejects(fn + "x has too many elements",
                () -> AttnkitNative.attnkit_residual_layernorm_forward(8, 8, 8, 8, 8, 8, 0, 0, 1 << 30, 1 << 20, 1e-5,
                        0, 1, 2));
        CudaTesting.assertNativeRejects(fn + "sum must not be null",
                () -> AttnkitNative.attnkit_residual_layernorm_forward(0, 8, 8, 8, 8, 8, 0, 0, 3, 4, 1e-5, 0, 1, 2));
        CudaTesting.assertNativeRejects(fn + "residual must not be null",
                () -> AttnkitNative.attnkit_residual_layernorm_forward(8, 8, 8, 8, 8, 0, 0, 0, 3, 4, 1e-5, 0, 1, 2));
        assumeFalse(Cuda.isAvailable(), "a GPU is present");
        assertReachesRuntime("attnkit_residual_layernorm_forward",
                () -> AttnkitNative.attnkit_residual_layernorm_forward(8, 8, 8, 8, 8, 8, 8, 8, 3, 4, 1e-5, 0.3, 1, 2));
    }

    @Test
    void theOptimizerKernelsCheckArgumentsBeforeAnyCudaCall() {
        assumeTrue(CudaTesting.jniBuilt(), "the JNI library was not built (no nvcc, or -P '!cuda')");
        CudaTesting.assertNativeRejects("attnkit_adam: n must be in [0, " + BIG + "], got -1",
                () -> AttnkitNative.attnkit_adam(8, 8, 8, 8, -1, 0.1, 0.9, 0.999, 1e-8, 0, 0, 0.1, 0.001));
        CudaTesting.assertNativeRejects("attnkit_adam: lr must be finite and >= 0, got -0.10000000000000001",
                () -> AttnkitNative.attnkit_adam(8, 8, 8, 8, 4, -0.1, 0.9, 0.999, 1e-8, 0, 0, 0.1, 0.001));
        CudaTesting.assertNativeRejects("attnkit_adam: beta1 must be in [0, 1)",
                () -> AttnkitNative.attnkit_adam(8, 8, 8, 8, 4, 0.1, 1.0, 0.999, 1e-8, 0, 0, 0.1, 0.001));
        CudaTesting.assertNativeRejects("attnkit_adam: beta2 must be in [0, 1)",
                () -> AttnkitNative.attnkit_adam(8, 8, 8, 8, 4, 0.1, 0.9, -0.5, 1e-8, 0, 0, 0.1, 0.001));
        CudaTesting.assertNativeRejects("attnkit_adam: eps must be > 0 and finite",
                () -> AttnkitNative.attnkit_adam(8, 8, 8, 8, 4, 0.1, 0.9, 0.999, 0, 0, 0, 0.1, 0.001));
        CudaTesting.assertNativeRejects("attnkit_adam: weight_decay must be finite and >= 0, got inf",
                () -> AttnkitNative.attnkit_adam(8, 8, 8, 8, 4, 0.1, 0.9, 0.999, 1e-8, Double.POSITIVE_INFINITY, 0,
                        0.1, 0.001));
        CudaTesting.assertNativeRejects("attnkit_adam: decoupled must be in [0, 1], got 2",
                () -> AttnkitNative.attnkit_adam(8, 8, 8, 8, 4, 0.1, 0.9, 0.999, 1e-8, 0, 2, 0.1, 0.001));
        CudaTesting.assertNativeRejects("attnkit_adam: c1 must be in (0, 1]",
                () -> AttnkitNative.attnkit_adam(8, 8, 8, 8, 4, 0.1, 0.9, 0.999, 1e-8, 0, 0, 0, 0.001));
        CudaTesting.assertNativeRejects("attnkit_adam: c2 must be in (0, 1]",
                () -> AttnkitNative.attnkit_adam(8, 8, 8, 8, 4, 0.1, 0.9, 0.999, 1e-8, 0, 0, 0.1, 1.5));
        CudaTesting.assertNativeRejects("attnkit_adam: v must not be null",
                () -> AttnkitNative.attnkit_adam(8, 8, 8, 0, 4, 0.1, 0.9, 0.999, 1e-8, 0, 0, 0.1, 0.001));
        CudaTesting.assertNativeRejects("attnkit_sgd: momentum must be in [0, 1)",
                () -> AttnkitNative.attnkit_sgd(8, 8, 8, 4, 0.1, 1.0, 0, 0));
        CudaTesting.assertNativeRejects("attnkit_sgd: buf must not be null when momentum > 0",
                () -> AttnkitNative.attnkit_sgd(8, 8, 0, 4, 0.1, 0.9, 0, 0));
        CudaTesting.assertNativeRejects("attnkit_sgd: buf given but momentum is 0",
                () -> AttnkitNative.attnkit_sgd(8, 8, 8, 4, 0.1, 0, 0, 0));
        CudaTesting.assertNativeRejects("attnkit_sgd: first must be in [0, 1], got 2",
                () -> AttnkitNative.attnkit_sgd(8, 8, 8, 4, 0.1, 0.9, 0, 2));
        CudaTesting.assertNativeRejects("attnkit_sgd: grad must not be null", () -> AttnkitNative.attnkit_sgd(8, 0, 0, 4, 0.1, 0, 0, 0));
        CudaTesting.assertNativeRejects("attnkit_sum_squares: result must not be null",
                () -> AttnkitNative.attnkit_sum_squares(8, 4, null));
        CudaTesting.assertNativeRejects("attnkit_sum_squares: n must be in [0, " + BIG + "], got -1",
                () -> AttnkitNative.attnkit_sum_squares(8, -1, new double[1]));
        CudaTesting.assertNativeRejects("attnkit_scale: scale must be finite, got inf",
                () -> AttnkitNative.attnkit_scale(8, 8, 4, Double.POSITIVE_INFINITY));
        CudaTesting.assertNativeRejects("attnkit_scale: in must not be null", () -> AttnkitNative.attnkit_scale(8, 0, 4, 0.5));
        // Nothing to update or sum: no CUDA call.
        assertEquals(AttnkitNative.OK, AttnkitNative.attnkit_adam(8, 8, 8, 8, 0, 0.1, 0.9, 0.999, 1e-8, 0, 0, 0.1, 0.001));
        double[] r = {7};
        assertEquals(AttnkitNative.OK, AttnkitNative.attnkit_sum_squares(0, 0, r));
        assertEquals(0.0, r[0]);
        assumeFalse(Cuda.isAvailable(), "a GPU is present");
        assertReachesRuntime("attnkit_adam",
                () -> AttnkitNative.attnkit_adam(8, 8, 8, 8, 4, 0.1, 0.9, 0.999, 1e-8, 0.01, 1, 0.1, 0.001));
        assertReachesRuntime("attnkit_sgd", () -> AttnkitNative.attnkit_sgd(8, 8, 0, 4, 0.1, 0, 1e-4, 0));
        assertReachesRuntime("attnkit_sgd", () -> AttnkitNative.attnkit_sgd(8, 8, 8, 4, 0.1, 0.9, 0, 1));
        assertReachesRuntime("attnkit_sum_squares", () -> AttnkitNative.attnkit_sum_squares(8, 4, new double[1]));
        assertReachesRuntime("attnkit_scale", () -> AttnkitNative.attnkit_scale(8, 8, 4, 0.5));
    }

    @Test
    void theShapeOpsArithmeticAndReductionsDispatchDeviceTensorsToCuda() {
        assumeFalse(Cuda.isAvailable(), "a GPU is present");
        assertUnavailable("permute", () -> Permute.apply(CudaTesting.fakeDeviceTensor(2, 3, 4), 2, 0, 1));
        assertUnavailable("permute", () -> CudaTesting.fakeDeviceTensor(2, 3).transpose(0, 1));
        assertUnavailable("slice", () -> Slice.apply(CudaTesting.fakeDeviceTensor(2, 5), 1, 1, 3));
        assertUnavailable("concat", () -> Concat.apply(-1, CudaTesting.fakeDeviceTensor(2, 3),
                CudaTesting.fakeDeviceTensor(2, 4)));
        assertUnavailable("sub forward", () -> Sub.apply(CudaTesting.fakeDeviceTensor(2, 3), CudaTesting.fakeDeviceTensor(2, 3)));
        assertUnavailable("div forward", () -> Div.apply(CudaTesting.fakeDeviceTensor(2, 3), CudaTesting.fakeDeviceTensor(3)));
        // Broadcasts beyond a [C] row now run the general path instead of being refused.
        assertUnavailable("add forward", () -> Add.apply(CudaTesting.fakeDeviceTensor(4, 3), CudaTesting.fakeDeviceTensor(4, 1)));
        assertUnavailable("mul forward", () -> Mul.apply(CudaTesting.fakeDeviceTensor(2, 1, 3),
                CudaTesting.fakeDeviceTensor(2, 5, 3)));
        assertUnavailable("sum forward", () -> Sum.apply(CudaTesting.fakeDeviceTensor(2, 3, 4), 1, false));
        assertUnavailable("mean forward", () -> Mean.apply(CudaTesting.fakeDeviceTensor(2, 3, 4), new int[] {0, 2}, true));
        assertUnavailable("residual_layer_norm forward", () -> ResidualLayerNorm.apply(CudaTesting.fakeDeviceTensor(2, 4),
                CudaTesting.fakeDeviceTensor(2, 4), 0.1, 1, 2, CudaTesting.fakeDeviceTensor(4), null));
    }

    @Test
    void ranksAboveEightAreRefusedBeforeAvailabilityIsAsked() {
        int[] nine = {1, 1, 1, 1, 1, 1, 1, 2, 3};
        UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class,
                () -> Permute.apply(CudaTesting.fakeDeviceTensor(nine), 0, 1, 2, 3, 4, 5, 6, 8, 7));
        assertEquals("permute on CUDA supports rank <= 8, got rank 9", e.getMessage());
        e = assertThrows(UnsupportedOperationException.class,
                () -> Sub.apply(CudaTesting.fakeDeviceTensor(nine), CudaTesting.fakeDeviceTensor(3)));
        assertTrue(e.getMessage().startsWith("sub on CUDA broadcasts tensors of rank <= 8")
                && e.getMessage().contains("[1, 1, 1, 1, 1, 1, 1, 2, 3]"), e.getMessage());
        e = assertThrows(UnsupportedOperationException.class,
                () -> Sum.apply(CudaTesting.fakeDeviceTensor(nine), new int[] {0, 8}, false));
        assertTrue(e.getMessage().startsWith("sum on CUDA reduces tensors of rank <= 8") && e.getMessage().contains("[0, 8]"),
                e.getMessage());
    }

    @Test
    void argumentChecksStillComeFirst() {
        assertThrows(IllegalArgumentException.class, () -> Sub.apply(CudaTesting.fakeDeviceTensor(2, 3), Tensor.zeros(2, 3)));
        assertThrows(IllegalArgumentException.class,
                () -> Div.apply(CudaTesting.fakeDeviceTensor(2, 3), CudaTesting.fakeDeviceTensor(2, 4)));
        assertThrows(IllegalArgumentException.class, () -> Concat.apply(0, CudaTesting.fakeDeviceTensor(2, 3),
                Tensor.zeros(2, 3)));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ResidualLayerNorm.apply(
                CudaTesting.fakeDeviceTensor(2, 4), Tensor.zeros(2, 4), 0, 1, 2, null, null));
        assertTrue(e.getMessage().contains("residual"), e.getMessage());
    }

    @Test
    void optimizersAndClippingUpdateDeviceParametersOnTheDevice() {
        assumeFalse(Cuda.isAvailable(), "a GPU is present");
        // A parameter "on cuda:0": the CPU path would fail reading its data; the device path asks for CUDA.
        Tensor p = CudaTesting.fakeDeviceTensor(3).requiresGrad(true);
        p.accumulateGrad(CudaTesting.fakeDeviceTensor(3));
        assertUnavailable("optimizer state on cuda:0", () -> Adam.of(List.of(p), 0.1).step());
        assertUnavailable("optimizer state on cuda:0",
                () -> new Sgd(List.of(org.attnkit.optim.ParamGroup.of(List.of(p), 0.1)), 0.9).step());
        assertUnavailable("sgd update on cuda:0", () -> Sgd.of(List.of(p), 0.1).step());
        assertUnavailable("gradient norm on cuda:0", () -> GradClip.clipGlobalNorm(List.of(p), 1.0));
    }

    @Test
    void aDeviceStateFromAnotherDeviceIsRefusedNamingIt() {
        Tensor p = CudaTesting.fakeDeviceTensor(3).requiresGrad(true);
        p.accumulateGrad(DeviceStandInOn1.tensor(3));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Sgd.of(List.of(p), 0.1).step());
        assertEquals("sgd: grad is on cuda:1 but the parameter is on cuda:0", e.getMessage());
    }

    /** A stand-in on a second device. */
    private static final class DeviceStandInOn1 {
        static Tensor tensor(int... shape) {
            return org.attnkit.testing.DeviceStandIn.on(Device.cuda(1), shape);
        }
    }

    @Test
    void moduleToTheCpuKeepsEveryTensorAndToCudaNeedsCuda() {
        TokenClassifier m = new TokenClassifier(new SplittableRandom(1), MixerType.LIGHTCONV, 8, 3,
                new LayerConfig(8, 16, 2, true, 0.1, 1), new int[] {3}, false, false);
        Map<String, Tensor> before = m.namedParameters();
        assertSame(m, m.to(Device.CPU));
        Map<String, Tensor> after = m.namedParameters();
        assertEquals(before.keySet(), after.keySet());
        before.forEach((k, v) -> assertSame(v, after.get(k), k));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> m.to(null));
        assertEquals("Module.to: device must not be null", e.getMessage());
        assumeFalse(Cuda.isAvailable(), "a GPU is present");
        CudaUnavailableException u = assertThrows(CudaUnavailableException.class, () -> m.to(Device.cuda(0)));
        assertTrue(u.getMessage().contains("CUDA is unavailable"), u.getMessage());
    }

    @Test
    void theHostRunsOfTheElementCodeCheckTheirBounds() {
        assumeTrue(CudaTesting.jniBuilt(), "the JNI library was not built (no nvcc, or -P '!cuda')");
        float[] three = new float[3];
        float[] six = new float[6];
        CudaTesting.assertNativeRejects("attnkit_strided_copy_host: in indices reach 5 but it holds 3 elements",
                () -> AttnkitNative.attnkit_strided_copy_host(six, 6, 0, new int[] {1}, three, 3, 0, new int[] {1},
                        new int[] {6}, 1, 1.0));
        CudaTesting.assertNativeRejects("attnkit_strided_copy_host: out indices reach 7 but it holds 6 elements",
                () -> AttnkitNative.attnkit_strided_copy_host(six, 6, 1, new int[] {2}, six, 6, 0, new int[] {1},
                        new int[] {4}, 1, 1.0));
        CudaTesting.assertNativeRejects("attnkit_broadcast_op_host: b indices reach 4 but it holds 3 elements",
                () -> AttnkitNative.attnkit_broadcast_op_host(six, 6, six, 6, new int[] {3, 1}, three, 3,
                        new int[] {0, 2}, null, 0, null, new int[] {2, 3}, 2, 0));
        CudaTesting.assertNativeRejects("attnkit_broadcast_op_host: an operand the op reads is null",
                () -> AttnkitNative.attnkit_broadcast_op_host(six, 6, six, 6, new int[] {1}, null, 0, new int[] {1},
                        null, 0, null, new int[] {6}, 1, 2));
        CudaTesting.assertNativeRejects("attnkit_strided_sum_host: in indices reach 6 but it holds 6 elements",
                () -> AttnkitNative.attnkit_strided_sum_host(three, 3, six, 6, new int[] {3}, new int[] {2}, 1,
                        new int[] {2}, new int[] {2}, 1, 1.0));
        CudaTesting.assertNativeRejects("attnkit_adam: beta1 must be in [0, 1)",
                () -> AttnkitNative.attnkit_adam_host(three, three, three, three, 3, 0.1, 1.0, 0.9, 1e-8, 0, 0, 0.1,
                        0.1));
        // Valid: [2,3] columns summed, in place of a device.
        float[] out = new float[3];
        assertEquals(AttnkitNative.OK, AttnkitNative.attnkit_strided_sum_host(out, 3, new float[] {1, 2, 3, 4, 5, 6}, 6,
                new int[] {3}, new int[] {1}, 1, new int[] {2}, new int[] {3}, 1, 0.5));
        assertEquals(2.5f, out[0]);
        assertEquals(4.5f, out[2]);
    }

    private static void assertReachesRuntime(String fn, Supplier<Integer> call) {
        int rc = call.get();
        assertEquals(AttnkitNative.NO_DEVICE, rc, NativeCalls.lastError());
        assertTrue(NativeCalls.lastError().startsWith(fn + ": CUDA error "), NativeCalls.lastError());
    }

    private static void assertUnavailable(String prefix, Runnable call) {
        CudaUnavailableException u = assertThrows(CudaUnavailableException.class, call::run);
        assertTrue(u.getMessage().startsWith(prefix + ": CUDA is unavailable ("), u.getMessage());
    }
}
