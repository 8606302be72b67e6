package org.attnkit.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import org.attnkit.ops.linear.Linear;
import org.attnkit.ops.matmul.MatMul;
import org.attnkit.tensor.Device;
import org.attnkit.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * The GEMM behind Linear and MatMul on CUDA, where there is no GPU: the native checks reject bad
 * arguments before any CUDA call (INVALID_ARGUMENT where a CUDA call would give NO_DEVICE), an empty
 * product makes no CUDA call at all, and the operators validate before they reach the CUDA backend.
 */
class CudaGemmWithoutGpuTest {
    private static final Device GPU = Device.cuda(0);

    @Test
    void gemmChecksItsArgumentsBeforeAnyCudaCall() {
        assumeTrue(CudaTesting.jniBuilt(), "the JNI library was not built (no nvcc, or -P '!cuda')");
        CudaTesting.assertNativeRejects("attnkit_gemm: batch must be in [1, 65535], got 0",
                () -> AttnkitNative.attnkit_gemm(8, 8, 8, 0, 0, 2, 2, 2, 0, 0, 0));
        CudaTesting.assertNativeRejects("attnkit_gemm: batch must be in [1, 65535], got 65536",
                () -> AttnkitNative.attnkit_gemm(8, 8, 8, 0, 65536, 2, 2, 2, 0, 0, 0));
        CudaTesting.assertNativeRejects("attnkit_gemm: M must be in [0, 4194240], got -1",
                () -> AttnkitNative.attnkit_gemm(8, 8, 8, 0, 1, -1, 2, 2, 0, 0, 0));
        CudaTesting.assertNativeRejects("attnkit_gemm: M must be in [0, 4194240], got 4194241",
                () -> AttnkitNative.attnkit_gemm(8, 8, 8, 0, 1, 4194241, 2, 2, 0, 0, 0));
        CudaTesting.assertNativeRejects("attnkit_gemm: N must be in [0, 2147483647], got -3",
                () -> AttnkitNative.attnkit_gemm(8, 8, 8, 0, 1, 2, -3, 2, 0, 0, 0));
        CudaTesting.assertNativeRejects("attnkit_gemm: K must be in [0, 2147483647], got -1",
                () -> AttnkitNative.attnkit_gemm(8, 8, 8, 0, 1, 2, 2, -1, 0, 0, 0));
        CudaTesting.assertNativeRejects("attnkit_gemm: trans_a must be in [0, 1], got 2",
                () -> AttnkitNative.attnkit_gemm(8, 8, 8, 0, 1, 2, 2, 2, 2, 0, 0));
        CudaTesting.assertNativeRejects("attnkit_gemm: trans_w must be in [0, 1], got -1",
                () -> AttnkitNative.attnkit_gemm(8, 8, 8, 0, 1, 2, 2, 2, 0, -1, 0));
        CudaTesting.assertNativeRejects("attnkit_gemm: share_w must be in [0, 1], got 3",
                () -> AttnkitNative.attnkit_gemm(8, 8, 8, 0, 1, 2, 2, 2, 0, 0, 3));
        CudaTesting.assertNativeRejects("attnkit_gemm: c has too many elements",
                () -> AttnkitNative.attnkit_gemm(8, 8, 8, 0, 65535, 4194240, Integer.MAX_VALUE, 1, 0, 0, 0));
        CudaTesting.assertNativeRejects("attnkit_gemm: c must not be null",
                () -> AttnkitNative.attnkit_gemm(0, 8, 8, 0, 1, 2, 2, 2, 0, 0, 0));
        CudaTesting.assertNativeRejects("attnkit_gemm: a must not be null",
                () -> AttnkitNative.attnkit_gemm(8, 0, 8, 0, 1, 2, 2, 2, 0, 0, 0));
        CudaTesting.assertNativeRejects("attnkit_gemm: w must not be null",
                () -> AttnkitNative.attnkit_gemm(8, 8, 0, 0, 1, 2, 2, 2, 0, 0, 0));
        CudaTesting.assertNativeRejects("attnkit_column_sum: cols must be >= 1, got 0",
                () -> AttnkitNative.attnkit_column_sum(8, 8, 3, 0));
        CudaTesting.assertNativeRejects("attnkit_column_sum: rows must be in [0, 2147483647], got -2",
                () -> AttnkitNative.attnkit_column_sum(8, 8, -2, 4));
        CudaTesting.assertNativeRejects("attnkit_column_sum: in must not be null",
                () -> AttnkitNative.attnkit_column_sum(8, 0, 3, 4));
        CudaTesting.assertNativeRejects("attnkit_column_sum: out must not be null",
                () -> AttnkitNative.attnkit_column_sum(0, 8, 3, 4));
    }

    @Test
    void anEmptyProductMakesNoCudaCallAndValidArgumentsReachTheRuntime() {
        assumeTrue(CudaTesting.jniBuilt(), "the JNI library was not built (no nvcc, or -P '!cuda')");
        assumeFalse(Cuda.isAvailable(), "a GPU is present");
        // M = 0 or N = 0: OK without touching CUDA (which would say NO_DEVICE here); K = 0 needs no a or w.
        assertEquals(AttnkitNative.OK, AttnkitNative.attnkit_gemm(8, 8, 8, 0, 3, 0, 5, 4, 0, 0, 0));
        assertEquals(AttnkitNative.OK, AttnkitNative.attnkit_gemm(8, 8, 8, 0, 1, 7, 0, 4, 1, 1, 1));
        // A valid product passes every check and reaches the runtime, which has no device to run it on.
        int rc = AttnkitNative.attnkit_gemm(8, 8, 8, 0, 1, 2, 2, 2, 0, 0, 0);
        assertEquals(AttnkitNative.NO_DEVICE, rc, NativeCalls.lastError());
        assertTrue(NativeCalls.lastError().startsWith("attnkit_gemm: CUDA error "), NativeCalls.lastError());
        rc = AttnkitNative.attnkit_gemm(8, 0, 0, 8, 1, 2, 2, 0, 0, 0, 0);
        assertEquals(AttnkitNative.NO_DEVICE, rc, NativeCalls.lastError());
    }

    @Test
    void matMulValidatesBeforeTheCudaBackend() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> MatMul.apply(CudaTesting.fakeDeviceTensor(2, 3), CudaTesting.fakeDeviceTensor(4, 5)));
        assertTrue(e.getMessage().contains("K = 3") && e.getMessage().contains("K = 4"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> MatMul.apply(CudaTesting.fakeDeviceTensor(2, 3), Tensor.zeros(3, 5)));
        assertTrue(e.getMessage().contains("cuda:0") && e.getMessage().contains("cpu"), e.getMessage());
        assumeFalse(Cuda.isAvailable(), "a GPU is present");
        CudaUnavailableException u = assertThrows(CudaUnavailableException.class,
                () -> MatMul.apply(CudaTesting.fakeDeviceTensor(4, 2, 3), CudaTesting.fakeDeviceTensor(4, 3, 5)));
        assertTrue(u.getMessage().startsWith("matmul forward: CUDA is unavailable ("), u.getMessage());
    }

    @Test
    void linearValidatesBeforeTheCudaBackend() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Linear.apply(CudaTesting.fakeDeviceTensor(2, 5, 6), CudaTesting.fakeDeviceTensor(4, 7), null));
        assertTrue(e.getMessage().contains("in = 6") && e.getMessage().contains("in = 7"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Linear.apply(CudaTesting.fakeDeviceTensor(2, 5, 6), CudaTesting.fakeDeviceTensor(4, 6), CudaTesting.fakeDeviceTensor(5)));
        assertTrue(e.getMessage().contains("bias"), e.getMessage());
        assumeFalse(Cuda.isAvailable(), "a GPU is present");
        CudaUnavailableException u = assertThrows(CudaUnavailableException.class,
                () -> Linear.apply(CudaTesting.fakeDeviceTensor(2, 5, 6), CudaTesting.fakeDeviceTensor(4, 6), CudaTesting.fakeDeviceTensor(4)));
        assertTrue(u.getMessage().startsWith("linear forward: CUDA is unavailable ("), u.getMessage());
    }

    @Test
    void cpuProductsIgnoreTheRegisteredCudaBackend() {
        Tensor c = MatMul.apply(Tensor.randn(1, 2, 3), Tensor.randn(2, 3, 4));
        assertEquals(Device.CPU, c.device());
        Tensor y = Linear.apply(Tensor.randn(3, 2, 3), Tensor.randn(4, 5, 3), Tensor.randn(5, 5));
        assertEquals(Device.CPU, y.device());
        assertEquals(10, y.numel());
    }
}
