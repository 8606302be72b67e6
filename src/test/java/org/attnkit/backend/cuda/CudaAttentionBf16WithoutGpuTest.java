package org.attnkit.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import org.junit.jupiter.api.Test;

/**
 * The bf16 tensor-core attention forward (attnkit_attention_forward_bf16, cuda/attention_bf16.cu) where there is
 * no GPU: every host check rejects its bad argument with its exact message before any CUDA call, and valid
 * arguments (both head sizes, both output types, causal, key-padding mask, no lse) pass the checks and reach the
 * runtime, which has no device here. Addresses are fakes: nothing is dereferenced on the host.
 */
class CudaAttentionBf16WithoutGpuTest {
    private static final String FN = "attnkit_attention_forward_bf16: ";

    /** y, lse, q, k, v, mask = 16, 32, 48, 64, 80, 0; B=2 Tq=5 Tk=7 H=2 D=128 (d = 64), not causal, fp32 out. */
    private static int call(long y, long lse, long q, long k, long v, long mask, int b, int tq, int tk, int h, int d,
                            int causal, int yBf16) {
        return AttnkitNative.attnkit_attention_forward_bf16(y, lse, q, k, v, mask, b, tq, tk, h, d, causal, yBf16);
    }

    @Test
    void everyCheckRejectsItsArgumentBeforeAnyCudaCall() {
        assumeTrue(CudaTesting.jniBuilt(), "the JNI library was not built (no nvcc, or -P '!cuda')");
        CudaTesting.assertNativeRejects(FN + "B must be >= 1, got 0",
                () -> call(16, 32, 48, 64, 80, 0, 0, 5, 7, 2, 128, 0, 0));
        CudaTesting.assertNativeRejects(FN + "Tq must be >= 1, got 0",
                () -> call(16, 32, 48, 64, 80, 0, 2, 0, 7, 2, 128, 0, 0));
        CudaTesting.assertNativeRejects(FN + "Tk must be >= 1, got -3",
                () -> call(16, 32, 48, 64, 80, 0, 2, 5, -3, 2, 128, 0, 0));
        CudaTesting.assertNativeRejects(FN + "H must be >= 1, got 0",
                () -> call(16, 32, 48, 64, 80, 0, 2, 5, 7, 0, 128, 0, 0));
        CudaTesting.assertNativeRejects(FN + "D must be >= 1, got 0",
                () -> call(16, 32, 48, 64, 80, 0, 2, 5, 7, 2, 0, 0, 0));
        CudaTesting.assertNativeRejects(FN + "heads H must divide D (3 must divide 128)",
                () -> call(16, 32, 48, 64, 80, 0, 2, 5, 7, 3, 128, 0, 0));
        CudaTesting.assertNativeRejects(FN + "D/H must be 64 or 128 (the head sizes of the bf16 kernel), got 32",
                () -> call(16, 32, 48, 64, 80, 0, 2, 5, 7, 4, 128, 0, 0));
        CudaTesting.assertNativeRejects(FN + "D/H must be 64 or 128 (the head sizes of the bf16 kernel), got 256",
                () -> call(16, 32, 48, 64, 80, 0, 2, 5, 7, 1, 256, 0, 0));
        CudaTesting.assertNativeRejects(FN + "B*H must be in [1, 65535], got 65536",
                () -> call(16, 32, 48, 64, 80, 0, 4096, 5, 7, 16, 1024, 0, 0));
        CudaTesting.assertNativeRejects(FN + "causal must be in [0, 1], got 2",
                () -> call(16, 32, 48, 64, 80, 0, 2, 5, 7, 2, 128, 2, 0));
        CudaTesting.assertNativeRejects(FN + "y_bf16 must be in [0, 1], got -1",
                () -> call(16, 32, 48, 64, 80, 0, 2, 5, 7, 2, 128, 0, -1));
        CudaTesting.assertNativeRejects(FN + "q has too many elements",
                () -> call(16, 32, 48, 64, 80, 0, 1, Integer.MAX_VALUE, 7, 16, 1024, 0, 0));
        CudaTesting.assertNativeRejects(FN + "k has too many elements",
                () -> call(16, 32, 48, 64, 80, 0, 1, 7, Integer.MAX_VALUE, 16, 1024, 0, 0));
        CudaTesting.assertNativeRejects(FN + "y must not be null",
                () -> call(0, 32, 48, 64, 80, 0, 2, 5, 7, 2, 128, 0, 0));
        CudaTesting.assertNativeRejects(FN + "q must not be null",
                () -> call(16, 32, 0, 64, 80, 0, 2, 5, 7, 2, 128, 0, 0));
        CudaTesting.assertNativeRejects(FN + "k must not be null",
                () -> call(16, 32, 48, 0, 80, 0, 2, 5, 7, 2, 128, 0, 0));
        CudaTesting.assertNativeRejects(FN + "v must not be null",
                () -> call(16, 32, 48, 64, 0, 0, 2, 5, 7, 2, 128, 0, 0));
        CudaTesting.assertNativeRejects(FN + "y must be 16-byte aligned, got address 8",
                () -> call(8, 32, 48, 64, 80, 0, 2, 5, 7, 2, 128, 0, 1));
        CudaTesting.assertNativeRejects(FN + "q must be 16-byte aligned, got address 50",
                () -> call(16, 32, 50, 64, 80, 0, 2, 5, 7, 2, 128, 0, 0));
        CudaTesting.assertNativeRejects(FN + "k must be 16-byte aligned, got address 68",
                () -> call(16, 32, 48, 68, 80, 0, 2, 5, 7, 2, 128, 0, 0));
        CudaTesting.assertNativeRejects(FN + "v must be 16-byte aligned, got address 88",
                () -> call(16, 32, 48, 64, 88, 0, 2, 5, 7, 2, 128, 0, 0));
        CudaTesting.assertNativeRejects(FN + "lse must be 4-byte aligned, got address 34",
                () -> call(16, 34, 48, 64, 80, 0, 2, 5, 7, 2, 128, 0, 0));
        CudaTesting.assertNativeRejects(FN + "mask must be 4-byte aligned, got address 97",
                () -> call(16, 32, 48, 64, 80, 97, 2, 5, 7, 2, 128, 0, 0));
    }

    @Test
    void validArgumentsReachTheRuntime() {
        assumeTrue(CudaTesting.jniBuilt(), "the JNI library was not built (no nvcc, or -P '!cuda')");
        assumeFalse(Cuda.isAvailable(), "a GPU is present");
        int[][] cases = {
            // B, Tq, Tk, H, D, causal, yBf16, lse, mask
            {2, 5, 7, 2, 128, 0, 0, 32, 0},
            {2, 5, 7, 2, 128, 1, 1, 32, 96},
            {1, 100, 33, 1, 128, 1, 0, 0, 0},   // d = 128
            {8, 4096, 4096, 16, 1024, 1, 1, 0, 0},  // the headline shape
            {65535, 1, 1, 1, 64, 0, 1, 4, 4},
        };
        for (int[] c : cases) {
            int rc = call(16, c[7], 48, 64, 80, c[8], c[0], c[1], c[2], c[3], c[4], c[5], c[6]);
            assertEquals(AttnkitNative.NO_DEVICE, rc, NativeCalls.lastError());
            assertTrue(NativeCalls.lastError().startsWith(FN + "CUDA error "), NativeCalls.lastError());
        }
    }
}
