package org.attnkit.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import org.attnkit.ops.linear.LinearEpilogue;
import org.attnkit.ops.linear.LinearEpilogue.Activation;
import org.attnkit.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * The tensor-core GEMM entry points and the GEMM precision, where there is no GPU: every native check of
 * attnkit_gemm_ex, attnkit_gemm_bf16 and the bf16 conversions rejects its bad argument with its exact message
 * before any CUDA call, valid arguments reach the runtime (NO_DEVICE here), empty work makes no CUDA call, the
 * precision property is parsed with a message naming it, and LinearEpilogue validates before the CUDA backend.
 */
class CudaGemmMmaWithoutGpuTest {
    @Test
    void gemmExChecksItsArgumentsBeforeAnyCudaCall() {
        assumeTrue(CudaTesting.jniBuilt(), "the JNI library was not built (no nvcc, or -P '!cuda')");
        CudaTesting.assertNativeRejects("attnkit_gemm_ex: batch must be in [1, 65535], got 0",
                () -> AttnkitNative.attnkit_gemm_ex(8, 0, 8, 8, 0, 0, 2, 2, 2, 0, 0, 0, 1, 0));
        CudaTesting.assertNativeRejects("attnkit_gemm_ex: M must be in [0, 4194240], got 4194241",
                () -> AttnkitNative.attnkit_gemm_ex(8, 0, 8, 8, 0, 1, 4194241, 2, 2, 0, 0, 0, 1, 0));
        CudaTesting.assertNativeRejects("attnkit_gemm_ex: N must be in [0, 2147483647], got -1",
                () -> AttnkitNative.attnkit_gemm_ex(8, 0, 8, 8, 0, 1, 2, -1, 2, 0, 0, 0, 1, 0));
        CudaTesting.assertNativeRejects("attnkit_gemm_ex: K must be in [0, 2147483647], got -2",
                () -> AttnkitNative.attnkit_gemm_ex(8, 0, 8, 8, 0, 1, 2, 2, -2, 0, 0, 0, 1, 0));
        CudaTesting.assertNativeRejects("attnkit_gemm_ex: trans_a must be in [0, 1], got 2",
                () -> AttnkitNative.attnkit_gemm_ex(8, 0, 8, 8, 0, 1, 2, 2, 2, 2, 0, 0, 1, 0));
        CudaTesting.assertNativeRejects("attnkit_gemm_ex: trans_w must be in [0, 1], got 5",
                () -> AttnkitNative.attnkit_gemm_ex(8, 0, 8, 8, 0, 1, 2, 2, 2, 0, 5, 0, 1, 0));
        CudaTesting.assertNativeRejects("attnkit_gemm_ex: share_w must be in [0, 1], got -1",
                () -> AttnkitNative.attnkit_gemm_ex(8, 0, 8, 8, 0, 1, 2, 2, 2, 0, 0, -1, 1, 0));
        CudaTesting.assertNativeRejects("attnkit_gemm_ex: precision must be in [0, 2], got 3",
                () -> AttnkitNative.attnkit_gemm_ex(8, 0, 8, 8, 0, 1, 2, 2, 2, 0, 0, 0, 3, 0));
        CudaTesting.assertNativeRejects("attnkit_gemm_ex: epilogue must be in [0, 5], got 6",
                () -> AttnkitNative.attnkit_gemm_ex(8, 0, 8, 8, 0, 1, 2, 2, 2, 0, 0, 0, 2, 6));
        CudaTesting.assertNativeRejects("attnkit_gemm_ex: N must be even for the GLU epilogue (halves a, gate), got 7",
                () -> AttnkitNative.attnkit_gemm_ex(8, 8, 8, 8, 0, 1, 2, 7, 2, 0, 0, 0, 0, 5));
        CudaTesting.assertNativeRejects("attnkit_gemm_ex: z given for epilogue 0 (none), where y is the pre-activation",
                () -> AttnkitNative.attnkit_gemm_ex(8, 8, 8, 8, 0, 1, 2, 2, 2, 0, 0, 0, 0, 0));
        CudaTesting.assertNativeRejects("attnkit_gemm_ex: c has too many elements",
                () -> AttnkitNative.attnkit_gemm_ex(8, 0, 8, 8, 0, 65535, 4194240, Integer.MAX_VALUE, 1, 0, 0, 0, 1,
                        0));
        CudaTesting.assertNativeRejects("attnkit_gemm_ex: y must not be null",
                () -> AttnkitNative.attnkit_gemm_ex(0, 0, 8, 8, 0, 1, 2, 2, 2, 0, 0, 0, 1, 0));
        CudaTesting.assertNativeRejects("attnkit_gemm_ex: a must not be null",
                () -> AttnkitNative.attnkit_gemm_ex(8, 0, 0, 8, 0, 1, 2, 2, 2, 0, 0, 0, 2, 0));
        CudaTesting.assertNativeRejects("attnkit_gemm_ex: w must not be null",
                () -> AttnkitNative.attnkit_gemm_ex(8, 8, 8, 0, 0, 1, 2, 2, 2, 0, 0, 0, 2, 1));
    }

    @Test
    void gemmBf16AndTheConversionsCheckTheirArguments() {
        assumeTrue(CudaTesting.jniBuilt(), "the JNI library was not built (no nvcc, or -P '!cuda')");
        CudaTesting.assertNativeRejects("attnkit_gemm_bf16: batch must be in [1, 65535], got 65536",
                () -> AttnkitNative.attnkit_gemm_bf16(8, 8, 8, 0, 65536, 2, 2, 2, 0, 0, 0, 0));
        CudaTesting.assertNativeRejects("attnkit_gemm_bf16: M must be in [0, 8388480], got 8388481",
                () -> AttnkitNative.attnkit_gemm_bf16(8, 8, 8, 0, 1, 8388481, 2, 2, 0, 0, 0, 0));
        CudaTesting.assertNativeRejects("attnkit_gemm_bf16: trans_a must be in [0, 1], got 3",
                () -> AttnkitNative.attnkit_gemm_bf16(8, 8, 8, 0, 1, 2, 2, 2, 3, 0, 0, 0));
        CudaTesting.assertNativeRejects("attnkit_gemm_bf16: c_bf16 must be in [0, 1], got 2",
                () -> AttnkitNative.attnkit_gemm_bf16(8, 8, 8, 0, 1, 2, 2, 2, 0, 0, 0, 2));
        CudaTesting.assertNativeRejects("attnkit_gemm_bf16: c must not be null",
                () -> AttnkitNative.attnkit_gemm_bf16(0, 8, 8, 0, 1, 2, 2, 2, 0, 0, 0, 0));
        CudaTesting.assertNativeRejects("attnkit_gemm_bf16: a must not be null",
                () -> AttnkitNative.attnkit_gemm_bf16(8, 0, 8, 0, 1, 2, 2, 2, 0, 0, 0, 1));
        CudaTesting.assertNativeRejects("attnkit_f32_to_bf16: n must be in [0, 1099511627776], got -1",
                () -> AttnkitNative.attnkit_f32_to_bf16(8, 8, -1));
        CudaTesting.assertNativeRejects("attnkit_f32_to_bf16: out must not be null",
                () -> AttnkitNative.attnkit_f32_to_bf16(0, 8, 4));
        CudaTesting.assertNativeRejects("attnkit_bf16_to_f32: in must not be null",
                () -> AttnkitNative.attnkit_bf16_to_f32(8, 0, 4));
    }

    @Test
    void emptyWorkMakesNoCudaCallAndValidArgumentsReachTheRuntime() {
        assumeTrue(CudaTesting.jniBuilt(), "the JNI library was not built (no nvcc, or -P '!cuda')");
        assumeFalse(Cuda.isAvailable(), "a GPU is present");
        assertEquals(AttnkitNative.OK, AttnkitNative.attnkit_gemm_ex(8, 0, 8, 8, 0, 3, 0, 5, 4, 0, 0, 0, 1, 0));
        assertEquals(AttnkitNative.OK, AttnkitNative.attnkit_gemm_ex(8, 8, 8, 8, 0, 1, 7, 0, 4, 1, 1, 1, 2, 5));
        assertEquals(AttnkitNative.OK, AttnkitNative.attnkit_gemm_bf16(8, 8, 8, 0, 2, 0, 3, 3, 0, 0, 0, 1));
        assertEquals(AttnkitNative.OK, AttnkitNative.attnkit_f32_to_bf16(0, 0, 0));
        assertEquals(AttnkitNative.OK, AttnkitNative.attnkit_bf16_to_f32(0, 0, 0));
        for (int precision = 0; precision <= 2; precision++) {
            for (int epilogue = 0; epilogue <= 5; epilogue++) {
                int rc = AttnkitNative.attnkit_gemm_ex(8, epilogue == 0 ? 0 : 8, 8, 8, 8, 2, 3, 4, 5, 1, 1, 0,
                        precision, epilogue);
                assertEquals(AttnkitNative.NO_DEVICE, rc, NativeCalls.lastError());
                assertTrue(NativeCalls.lastError().startsWith("attnkit_gemm_ex: CUDA error "), NativeCalls.lastError());
            }
        }
        // K = 0 needs neither a nor w: y = f(bias).
        assertEquals(AttnkitNative.NO_DEVICE, AttnkitNative.attnkit_gemm_ex(8, 0, 0, 0, 8, 1, 2, 2, 0, 0, 0, 0, 1,
                3), NativeCalls.lastError());
        assertEquals(AttnkitNative.NO_DEVICE, AttnkitNative.attnkit_gemm_bf16(8, 8, 8, 0, 1, 2, 2, 2, 0, 1, 1, 1),
                NativeCalls.lastError());
        assertEquals(AttnkitNative.NO_DEVICE, AttnkitNative.attnkit_f32_to_bf16(8, 8, 3), NativeCalls.lastError());
        assertEquals(AttnkitNative.NO_DEVICE, AttnkitNative.attnkit_bf16_to_f32(8, 8, 3), NativeCalls.lastError());
    }

    @Test
    void precisionCodesMatchTheHeader() {
        assertEquals(0, GemmPrecision.FP32.code());
        assertEquals(1, GemmPrecision.TF32.code());
        assertEquals(2, GemmPrecision.BF16.code());
    }

    @Test
    void thePropertyNamesAPrecisionInAnyCaseAndDefaultsToFp32() {
        assertSame(GemmPrecision.FP32, GemmPrecision.fromProperty(null));
        assertSame(GemmPrecision.FP32, GemmPrecision.fromProperty(" "));
        assertSame(GemmPrecision.FP32, GemmPrecision.fromProperty("fp32"));
        assertSame(GemmPrecision.TF32, GemmPrecision.fromProperty("TF32"));
        assertSame(GemmPrecision.BF16, GemmPrecision.fromProperty(" bf16 "));
    }

    @Test
    void aBadPropertyValueIsAnErrorNamingTheProperty() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> GemmPrecision.fromProperty("fp16"));
        assertEquals("system property attnkit.cuda.gemm must be fp32, tf32 or bf16, got 'fp16'", e.getMessage());
    }

    @Test
    void thePrecisionCanBeSetAndRestored() {
        GemmPrecision before = Cuda.gemmPrecision();
        GemmPrecision previous = Cuda.setGemmPrecision(GemmPrecision.BF16);
        try {
            assertSame(before, previous);
            assertSame(GemmPrecision.BF16, Cuda.gemmPrecision());
            assertSame(GemmPrecision.BF16, Cuda.setGemmPrecision(GemmPrecision.TF32));
            assertSame(GemmPrecision.TF32, Cuda.gemmPrecision());
        } finally {
            Cuda.setGemmPrecision(before);
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Cuda.setGemmPrecision(null));
        assertTrue(e.getMessage().contains("precision must not be null"), e.getMessage());
    }

    @Test
    void expectedErrorsGrowLikeTheSquareRootOfK() {
        assertEquals(1e-3 * 8, GemmPrecision.TF32.expectedError(64), 1e-15);
        assertEquals(8e-3 * 10, GemmPrecision.BF16.expectedError(100), 1e-15);
        assertTrue(GemmPrecision.FP32.expectedError(100) < 1e-5);
    }

    @Test
    void linearEpilogueValidatesBeforeTheCudaBackend() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LinearEpilogue.apply(CudaTesting.fakeDeviceTensor(2, 6), CudaTesting.fakeDeviceTensor(5, 6), null,
                        Activation.GLU));
        assertTrue(e.getMessage().contains("out = 5"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> LinearEpilogue.apply(CudaTesting.fakeDeviceTensor(2, 6), Tensor.zeros(4, 6), null,
                        Activation.RELU));
        assertTrue(e.getMessage().contains("cuda:0") && e.getMessage().contains("cpu"), e.getMessage());
        assumeFalse(Cuda.isAvailable(), "a GPU is present");
        CudaUnavailableException u = assertThrows(CudaUnavailableException.class,
                () -> LinearEpilogue.apply(CudaTesting.fakeDeviceTensor(2, 6), CudaTesting.fakeDeviceTensor(4, 6),
                        CudaTesting.fakeDeviceTensor(4), Activation.GELU));
        assertTrue(u.getMessage().startsWith("linear_epilogue forward: CUDA is unavailable ("), u.getMessage());
    }
}
