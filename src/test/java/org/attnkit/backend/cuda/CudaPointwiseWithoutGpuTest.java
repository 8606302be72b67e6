package org.attnkit.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

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
import org.junit.jupiter.api.Test;

/**
 * Dropout and elementwise add/mul on CUDA where there is no GPU: native checks before any CUDA call,
 * validation before the backend, and the general broadcast and reduction paths reached.
 */
class CudaPointwiseWithoutGpuTest {
    private static final Device GPU = Device.cuda(0);

    @Test
    void theNativeLaunchersCheckArgumentsBeforeAnyCudaCall() {
        assumeTrue(CudaTesting.jniBuilt(), "the JNI library was not built (no nvcc, or -P '!cuda')");
        CudaTesting.assertNativeRejects("attnkit_dropout: drop_p must be in [0, 1), got 1",
                () -> AttnkitNative.attnkit_dropout(8, 8, 10, 1.0, 0, 0));
        CudaTesting.assertNativeRejects("attnkit_dropout: drop_p must be in [0, 1), got nan",
                () -> AttnkitNative.attnkit_dropout(8, 8, 10, Double.NaN, 0, 0));
        CudaTesting.assertNativeRejects("attnkit_dropout: drop_p must be > 0 (p = 0 is the identity), got 0",
                () -> AttnkitNative.attnkit_dropout(8, 8, 10, 0.0, 0, 0));
        CudaTesting.assertNativeRejects("attnkit_dropout: n must be in [1, 1099511627776], got 0",
                () -> AttnkitNative.attnkit_dropout(8, 8, 0, 0.5, 0, 0));
        CudaTesting.assertNativeRejects("attnkit_dropout: in must not be null", () -> AttnkitNative.attnkit_dropout(8, 0, 10, 0.5, 0, 0));
        CudaTesting.assertNativeRejects("attnkit_binary: op must be in [0, 2], got 3",
                () -> AttnkitNative.attnkit_binary(8, 8, 8, 2, 3, 2, 3));
        CudaTesting.assertNativeRejects("attnkit_binary: b_rows must be 1 or rows = 4, got 2",
                () -> AttnkitNative.attnkit_binary(8, 8, 8, 4, 3, 2, 0));
        CudaTesting.assertNativeRejects("attnkit_binary: b must not be null", () -> AttnkitNative.attnkit_binary(8, 8, 0, 4, 3, 4, 1));
        CudaTesting.assertNativeRejects("attnkit_binary: cols must be >= 1, got 0", () -> AttnkitNative.attnkit_binary(8, 8, 8, 4, 0, 4, 1));
        CudaTesting.assertNativeRejects("attnkit_binary: a has too many elements",
                () -> AttnkitNative.attnkit_binary(8, 8, 8, 1L << 30, 1L << 30, 1, 1));
    }

    @Test
    void theReductionLaunchersCheckArgumentsBeforeAnyCudaCall() {
        assumeTrue(CudaTesting.jniBuilt(), "the JNI library was not built (no nvcc, or -P '!cuda')");
        CudaTesting.assertNativeRejects("attnkit_reduce_sum: axis must be in [0, 1], got 2",
                () -> AttnkitNative.attnkit_reduce_sum(8, 8, 2, 3, 2, 1.0));
        CudaTesting.assertNativeRejects("attnkit_reduce_sum: rows must be in [1, 2147483647], got 0",
                () -> AttnkitNative.attnkit_reduce_sum(8, 8, 0, 3, 1, 1.0));
        CudaTesting.assertNativeRejects("attnkit_reduce_sum: cols must be in [1, 2147483647], got 0",
                () -> AttnkitNative.attnkit_reduce_sum(8, 8, 3, 0, 0, 1.0));
        CudaTesting.assertNativeRejects("attnkit_reduce_sum: scale must not be NaN",
                () -> AttnkitNative.attnkit_reduce_sum(8, 8, 2, 3, 1, Double.NaN));
        CudaTesting.assertNativeRejects("attnkit_reduce_sum: in must not be null",
                () -> AttnkitNative.attnkit_reduce_sum(8, 0, 2, 3, 1, 1.0));
        CudaTesting.assertNativeRejects("attnkit_expand: cols must be in [1, 1099511627776], got 0",
                () -> AttnkitNative.attnkit_expand(8, 8, 2, 0, 1, 1.0));
        CudaTesting.assertNativeRejects("attnkit_expand: dy must not be null", () -> AttnkitNative.attnkit_expand(8, 0, 2, 3, 0, 1.0));
        // An empty sum over a row needs no input and reaches the runtime (which has no device here).
        assumeFalse(Cuda.isAvailable(), "a GPU is present");
        assertEquals(AttnkitNative.NO_DEVICE, AttnkitNative.attnkit_reduce_sum(8, 0, 3, 0, 1, 1.0),
                NativeCalls.lastError());
    }

    @Test
    void theEmbeddingLaunchersCheckArgumentsBeforeAnyCudaCall() {
        assumeTrue(CudaTesting.jniBuilt(), "the JNI library was not built (no nvcc, or -P '!cuda')");
        CudaTesting.assertNativeRejects("attnkit_embedding_forward: n must be in [1, 1073741824], got 0",
                () -> AttnkitNative.attnkit_embedding_forward(8, 8, 8, 0, 5, 4));
        CudaTesting.assertNativeRejects("attnkit_embedding_forward: V must be in [1, 1073741824], got 1073741825",
                () -> AttnkitNative.attnkit_embedding_forward(8, 8, 8, 3, (1 << 30) + 1, 4));
        CudaTesting.assertNativeRejects("attnkit_embedding_forward: ids must not be null",
                () -> AttnkitNative.attnkit_embedding_forward(8, 8, 0, 3, 5, 4));
        CudaTesting.assertNativeRejects("attnkit_embedding_backward: D must be >= 1, got 0",
                () -> AttnkitNative.attnkit_embedding_backward(8, 8, 8, 8, 3, 5, 0));
        CudaTesting.assertNativeRejects("attnkit_embedding_backward: order must not be null",
                () -> AttnkitNative.attnkit_embedding_backward(8, 8, 0, 8, 3, 5, 4));
        CudaTesting.assertNativeRejects("attnkit_embedding_backward: start must not be null",
                () -> AttnkitNative.attnkit_embedding_backward(8, 8, 8, 0, 3, 5, 4));
        assumeFalse(Cuda.isAvailable(), "a GPU is present");
        // No ids: dy and order may be absent; the zero gradient still needs the device.
        assertEquals(AttnkitNative.NO_DEVICE, AttnkitNative.attnkit_embedding_backward(8, 0, 0, 8, 0, 5, 4),
                NativeCalls.lastError());
    }

    @Test
    void embeddingValidatesBeforeTheCudaBackend() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Embedding.apply(new int[] {0, 7}, CudaTesting.fakeDeviceTensor(5, 4)));
        assertTrue(e.getMessage().contains("7"), e.getMessage());
        assumeFalse(Cuda.isAvailable(), "a GPU is present");
        assertUnavailable("embedding forward", () -> Embedding.apply(new int[] {0, 4, 4}, CudaTesting.fakeDeviceTensor(5, 4)));
    }

    @Test
    void theActivationLauncherChecksArgumentsBeforeAnyCudaCall() {
        assumeTrue(CudaTesting.jniBuilt(), "the JNI library was not built (no nvcc, or -P '!cuda')");
        CudaTesting.assertNativeRejects("attnkit_unary: op must be in [0, 7], got 8", () -> AttnkitNative.attnkit_unary(8, 8, 8, 4, 8));
        CudaTesting.assertNativeRejects("attnkit_unary: n must be in [1, 1099511627776], got 0",
                () -> AttnkitNative.attnkit_unary(8, 8, 0, 0, 0));
        CudaTesting.assertNativeRejects("attnkit_unary: dy must not be null", () -> AttnkitNative.attnkit_unary(8, 8, 0, 4, 7));
        CudaTesting.assertNativeRejects("attnkit_unary: dy given for a forward op 6", () -> AttnkitNative.attnkit_unary(8, 8, 8, 4, 6));
        CudaTesting.assertNativeRejects("attnkit_unary: x must not be null", () -> AttnkitNative.attnkit_unary(8, 0, 0, 4, 2));
        assumeFalse(Cuda.isAvailable(), "a GPU is present");
        assertEquals(AttnkitNative.NO_DEVICE, AttnkitNative.attnkit_unary(8, 8, 0, 4, 4), NativeCalls.lastError());
        assertUnavailable("tanh forward", () -> Tanh.apply(CudaTesting.fakeDeviceTensor(2, 3)));
        assertUnavailable("relu forward", () -> Relu.apply(CudaTesting.fakeDeviceTensor(2, 3)));
        assertUnavailable("sigmoid forward", () -> Sigmoid.apply(CudaTesting.fakeDeviceTensor(2, 3)));
        assertUnavailable("gelu forward", () -> Gelu.apply(CudaTesting.fakeDeviceTensor(2, 3)));
    }

    @Test
    void aReductionOverInnerDimsRunsTheGeneralPath() {
        // Since the strided sum of cuda/shape.cu, inner dims are reduced on the device too (CudaGraphWithoutGpuTest).
        assumeFalse(Cuda.isAvailable(), "a GPU is present");
        assertUnavailable("sum forward", () -> Sum.apply(CudaTesting.fakeDeviceTensor(2, 3, 4), 1, false));
        assertUnavailable("mean forward", () -> Mean.apply(CudaTesting.fakeDeviceTensor(2, 3, 4), new int[] {0, 2}, true));
        assertUnavailable("sum forward", () -> Sum.apply(CudaTesting.fakeDeviceTensor(2, 3, 4), -1, false));
        assertUnavailable("mean forward", () -> Mean.apply(CudaTesting.fakeDeviceTensor(2, 3, 4)));
        assertUnavailable("sum forward", () -> Sum.apply(CudaTesting.fakeDeviceTensor(2, 3, 4), new int[] {0, 1}, false));
    }

    @Test
    void validArgumentsReachTheRuntime() {
        assumeTrue(CudaTesting.jniBuilt(), "the JNI library was not built (no nvcc, or -P '!cuda')");
        assumeFalse(Cuda.isAvailable(), "a GPU is present");
        // op 2 (copy) needs no b: the checks pass and the runtime reports the missing device.
        assertEquals(AttnkitNative.NO_DEVICE, AttnkitNative.attnkit_binary(8, 8, 0, 4, 3, 4, 2), NativeCalls.lastError());
        assertEquals(AttnkitNative.NO_DEVICE, AttnkitNative.attnkit_dropout(8, 8, 10, 0.5, 1, 2), NativeCalls.lastError());
        assertTrue(NativeCalls.lastError().startsWith("attnkit_dropout: CUDA error "), NativeCalls.lastError());
    }

    @Test
    void anyBroadcastRunsTheGeneralPath() {
        // [4, 1] onto [4, 3] and [2, 1, 3] with [2, 5, 3] broadcast on CUDA too since cuda/shape.cu.
        assumeFalse(Cuda.isAvailable(), "a GPU is present");
        assertUnavailable("add forward", () -> Add.apply(CudaTesting.fakeDeviceTensor(4, 3), CudaTesting.fakeDeviceTensor(4, 1)));
        assertUnavailable("mul forward", () -> Mul.apply(CudaTesting.fakeDeviceTensor(2, 1, 3), CudaTesting.fakeDeviceTensor(2, 5, 3)));
    }

    @Test
    void operatorsValidateBeforeTheCudaBackend() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Dropout.apply(CudaTesting.fakeDeviceTensor(2, 3), 1.0, 0, 0));
        assertTrue(e.getMessage().contains("p") && e.getMessage().contains("1.0"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Add.apply(CudaTesting.fakeDeviceTensor(2, 3), CudaTesting.fakeDeviceTensor(2, 4)));
        assertThrows(IllegalArgumentException.class, () -> Mul.apply(CudaTesting.fakeDeviceTensor(2, 3), Tensor.zeros(2, 3)));
        assumeFalse(Cuda.isAvailable(), "a GPU is present");
        assertUnavailable("dropout forward", () -> Dropout.apply(CudaTesting.fakeDeviceTensor(2, 3), 0.5, 1, 2));
        assertUnavailable("add forward", () -> Add.apply(CudaTesting.fakeDeviceTensor(2, 3), CudaTesting.fakeDeviceTensor(3)));
        assertUnavailable("mul forward", () -> Mul.apply(CudaTesting.fakeDeviceTensor(3), CudaTesting.fakeDeviceTensor(5, 3)));
        assertUnavailable("mul forward", () -> Mul.apply(CudaTesting.fakeDeviceTensor(5, 3), CudaTesting.fakeDeviceTensor(5, 3)));
    }

    private static void assertUnavailable(String prefix, Runnable call) {
        CudaUnavailableException u = assertThrows(CudaUnavailableException.class, call::run);
        assertTrue(u.getMessage().startsWith(prefix + ": CUDA is unavailable ("), u.getMessage());
    }
}
