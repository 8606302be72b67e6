package org.attnkit.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import org.attnkit.ops.glu.Glu;
import org.attnkit.ops.layernorm.LayerNorm;
import org.attnkit.ops.loss.CrossEntropy;
import org.attnkit.ops.loss.Reduction;
import org.attnkit.ops.softmax.LogSoftmax;
import org.attnkit.ops.softmax.Softmax;
import org.attnkit.tensor.Device;
import org.attnkit.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * Softmax, log-softmax, LayerNorm and GLU on CUDA where there is no GPU: the native checks reject bad
 * arguments before any CUDA call, and the operators validate before they reach the CUDA backend, which
 * then refuses with the probe's reason.
 */
class CudaRowwiseWithoutGpuTest {
    private static final Device GPU = Device.cuda(0);

    @Test
    void theNativeLaunchersCheckArgumentsBeforeAnyCudaCall() {
        assumeTrue(CudaTesting.jniBuilt(), "the JNI library was not built (no nvcc, or -P '!cuda')");
        CudaTesting.assertNativeRejects("attnkit_softmax: n must be >= 1, got 0", () -> AttnkitNative.attnkit_softmax(8, 8, 0, 2, 0, 1, 0));
        CudaTesting.assertNativeRejects("attnkit_softmax: kind must be in [0, 3], got 4",
                () -> AttnkitNative.attnkit_softmax(8, 8, 8, 2, 3, 1, 4));
        CudaTesting.assertNativeRejects("attnkit_softmax: dy must not be null", () -> AttnkitNative.attnkit_softmax(8, 8, 0, 2, 3, 1, 2));
        CudaTesting.assertNativeRejects("attnkit_softmax: dy given for a forward kind 1",
                () -> AttnkitNative.attnkit_softmax(8, 8, 8, 2, 3, 1, 1));
        CudaTesting.assertNativeRejects("attnkit_softmax: x has too many elements",
                () -> AttnkitNative.attnkit_softmax(8, 8, 0, Integer.MAX_VALUE, Integer.MAX_VALUE, 2, 0));
        CudaTesting.assertNativeRejects("attnkit_layernorm_forward: eps must be > 0 and finite, got 0",
                () -> AttnkitNative.attnkit_layernorm_forward(8, 8, 8, 8, 0, 0, 2, 4, 0.0));
        CudaTesting.assertNativeRejects("attnkit_layernorm_forward: eps must be > 0 and finite, got nan",
                () -> AttnkitNative.attnkit_layernorm_forward(8, 8, 8, 8, 0, 0, 2, 4, Double.NaN));
        CudaTesting.assertNativeRejects("attnkit_layernorm_forward: rstd must not be null",
                () -> AttnkitNative.attnkit_layernorm_forward(8, 8, 0, 8, 0, 0, 2, 4, 1e-5));
        CudaTesting.assertNativeRejects("attnkit_layernorm_forward: D must be >= 1, got 0",
                () -> AttnkitNative.attnkit_layernorm_forward(8, 8, 8, 8, 0, 0, 2, 0, 1e-5));
        CudaTesting.assertNativeRejects("attnkit_layernorm_backward: no gradient asked for",
                () -> AttnkitNative.attnkit_layernorm_backward(0, 0, 0, 8, 0, 8, 8, 8, 2, 4));
        CudaTesting.assertNativeRejects("attnkit_layernorm_backward: dy must not be null",
                () -> AttnkitNative.attnkit_layernorm_backward(8, 0, 0, 8, 0, 8, 8, 0, 2, 4));
        CudaTesting.assertNativeRejects("attnkit_glu_forward: m must be >= 1, got 0", () -> AttnkitNative.attnkit_glu_forward(8, 8, 3, 0));
        CudaTesting.assertNativeRejects("attnkit_glu_forward: x has too many elements",
                () -> AttnkitNative.attnkit_glu_forward(8, 8, 1L << 20, 1L << 20));
        CudaTesting.assertNativeRejects("attnkit_glu_backward: dy must not be null", () -> AttnkitNative.attnkit_glu_backward(8, 8, 0, 3, 2));
    }

    @Test
    void theCrossEntropyLaunchersCheckArgumentsBeforeAnyCudaCall() {
        assumeTrue(CudaTesting.jniBuilt(), "the JNI library was not built (no nvcc, or -P '!cuda')");
        CudaTesting.assertNativeRejects("attnkit_cross_entropy_forward: C must be in [1, 16777216], got 16777217",
                () -> AttnkitNative.attnkit_cross_entropy_forward(8, 8, 8, 8, 2, (1 << 24) + 1));
        CudaTesting.assertNativeRejects("attnkit_cross_entropy_forward: rows must be >= 1, got 0",
                () -> AttnkitNative.attnkit_cross_entropy_forward(8, 8, 8, 8, 0, 5));
        CudaTesting.assertNativeRejects("attnkit_cross_entropy_forward: targets must not be null",
                () -> AttnkitNative.attnkit_cross_entropy_forward(8, 8, 8, 0, 2, 5));
        CudaTesting.assertNativeRejects("attnkit_cross_entropy_backward: per_row must be in [0, 1], got 2",
                () -> AttnkitNative.attnkit_cross_entropy_backward(8, 8, 8, 8, 8, 2, 5, 2, 1.0));
        CudaTesting.assertNativeRejects("attnkit_cross_entropy_backward: scale must be finite",
                () -> AttnkitNative.attnkit_cross_entropy_backward(8, 8, 8, 8, 8, 2, 5, 0, Double.POSITIVE_INFINITY));
        CudaTesting.assertNativeRejects("attnkit_cross_entropy_backward: dloss must not be null",
                () -> AttnkitNative.attnkit_cross_entropy_backward(8, 8, 8, 8, 0, 2, 5, 0, 1.0));
    }

    @Test
    void crossEntropyValidatesBeforeTheCudaBackend() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> CrossEntropy.apply(CudaTesting.fakeDeviceTensor(2, 3, 5), new int[] {0, 1, 2, 5, 0, 1}));
        assertTrue(e.getMessage().contains("targets[3] = 5"), e.getMessage());
        assumeFalse(Cuda.isAvailable(), "a GPU is present");
        assertUnavailable("cross_entropy forward",
                () -> CrossEntropy.apply(CudaTesting.fakeDeviceTensor(2, 5), new int[] {4, -100}, -100, Reduction.MEAN));
    }

    @Test
    void validArgumentsReachTheRuntime() {
        assumeTrue(CudaTesting.jniBuilt(), "the JNI library was not built (no nvcc, or -P '!cuda')");
        assumeFalse(Cuda.isAvailable(), "a GPU is present");
        assertEquals(AttnkitNative.NO_DEVICE, AttnkitNative.attnkit_softmax(8, 8, 0, 2, 3, 1, 0), NativeCalls.lastError());
        assertEquals(AttnkitNative.NO_DEVICE, AttnkitNative.attnkit_glu_forward(8, 8, 3, 2), NativeCalls.lastError());
        assertTrue(NativeCalls.lastError().startsWith("attnkit_glu_forward: CUDA error "), NativeCalls.lastError());
    }

    @Test
    void operatorsValidateBeforeTheCudaBackend() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Softmax.apply(CudaTesting.fakeDeviceTensor(2, 3), 2));
        assertTrue(e.getMessage().contains("dim"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Glu.apply(CudaTesting.fakeDeviceTensor(2, 3), -1));
        assertTrue(e.getMessage().contains("even"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> LayerNorm.apply(CudaTesting.fakeDeviceTensor(2, 4), CudaTesting.fakeDeviceTensor(5), null));
        assertTrue(e.getMessage().contains("gamma"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> LayerNorm.apply(CudaTesting.fakeDeviceTensor(2, 4), CudaTesting.fakeDeviceTensor(4), Tensor.zeros(4)));
        assertTrue(e.getMessage().contains("cuda:0") && e.getMessage().contains("cpu"), e.getMessage());
        assumeFalse(Cuda.isAvailable(), "a GPU is present");
        assertUnavailable("softmax forward", () -> Softmax.apply(CudaTesting.fakeDeviceTensor(2, 3), -1));
        assertUnavailable("log_softmax forward", () -> LogSoftmax.apply(CudaTesting.fakeDeviceTensor(2, 3), 0));
        assertUnavailable("glu forward", () -> Glu.apply(CudaTesting.fakeDeviceTensor(2, 4), -1));
        assertUnavailable("layer_norm forward", () -> LayerNorm.apply(CudaTesting.fakeDeviceTensor(2, 4), CudaTesting.fakeDeviceTensor(4), CudaTesting.fakeDeviceTensor(4)));
    }

    private static void assertUnavailable(String prefix, Runnable call) {
        CudaUnavailableException u = assertThrows(CudaUnavailableException.class, call::run);
        assertTrue(u.getMessage().startsWith(prefix + ": CUDA is unavailable ("), u.getMessage());
    }
}
