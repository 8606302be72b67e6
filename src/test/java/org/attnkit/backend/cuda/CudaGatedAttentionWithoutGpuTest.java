package org.attnkit.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import org.attnkit.ops.mae.GatedAttention;
import org.attnkit.ops.mae.Membership;
import org.attnkit.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * The fused MAE attention on CUDA where there is no GPU: every native check rejects its bad argument
 * before any CUDA call (exact messages), valid calls pass the checks and reach the runtime (NO_DEVICE),
 * and the op validates before the backend. (The membership's 0/1 rows are read on the host, so a device
 * stand-in cannot pass the op's checks: the CUDA kernel class's own refusals are tested through its
 * dispatcher in {@code org.attnkit.ops.mae.GatedAttentionTest}.)
 */
class CudaGatedAttentionWithoutGpuTest {
    // Argument order: y, q, k, v, mask, gate, membership, B, Tq, Tk, H, D, Dv, E, m, per_token, causal.
    private static int forward(long y, long gate, long membership, int b, int tq, int tk, int h, int d, int dv,
            int e, int m, int perToken) {
        return AttnkitNative.attnkit_gated_attention_forward(y, 8, 8, 8, 0, gate, membership, b, tq, tk, h, d, dv, e,
                m, perToken, 1);
    }

    @Test
    void theForwardChecksArgumentsBeforeAnyCudaCall() {
        assumeTrue(CudaTesting.jniBuilt(), "the JNI library was not built (no nvcc, or -P '!cuda')");
        String fn = "attnkit_gated_attention_forward: ";
        CudaTesting.assertNativeRejects(fn + "Tk must be >= 1, got 0", () -> forward(8, 8, 8, 2, 3, 0, 2, 8, 8, 2, 1, 0));
        CudaTesting.assertNativeRejects(fn + "heads H must divide Dv (2 must divide 5)", () -> forward(8, 8, 8, 2, 3, 4, 2, 8, 5, 2, 1, 0));
        CudaTesting.assertNativeRejects(fn + "D/H must be in [1, 128], got 256", () -> forward(8, 8, 8, 2, 3, 4, 1, 256, 8, 1, 1, 0));
        CudaTesting.assertNativeRejects(fn + "B*H must be in [1, 65535], got 65536",
                () -> forward(8, 8, 8, 4096, 3, 4, 16, 64, 64, 16, 15, 0));
        CudaTesting.assertNativeRejects(fn + "E must be >= 1, got 0", () -> forward(8, 8, 8, 2, 3, 4, 2, 8, 8, 0, 1, 0));
        CudaTesting.assertNativeRejects(fn + "m must be in [1, 2], got 3", () -> forward(8, 8, 8, 2, 3, 4, 2, 8, 8, 2, 3, 0));
        CudaTesting.assertNativeRejects(fn + "m must be in [1, 2], got 0", () -> forward(8, 8, 8, 2, 3, 4, 2, 8, 8, 2, 0, 0));
        CudaTesting.assertNativeRejects(fn + "per_token must be in [0, 1], got 2", () -> forward(8, 8, 8, 2, 3, 4, 2, 8, 8, 2, 1, 2));
        CudaTesting.assertNativeRejects(fn + "gate rows * max(E, H) must be below 2^31, got 2147483648",
                () -> forward(8, 8, 8, 1 << 15, 1 << 16, 1, 1, 1, 1, 1, 1, 1));
        CudaTesting.assertNativeRejects(fn + "y must not be null", () -> forward(0, 8, 8, 2, 3, 4, 2, 8, 8, 2, 1, 0));
        CudaTesting.assertNativeRejects(fn + "gate must not be null", () -> forward(8, 0, 8, 2, 3, 4, 2, 8, 8, 2, 1, 0));
        CudaTesting.assertNativeRejects(fn + "membership must not be null", () -> forward(8, 8, 0, 2, 3, 4, 2, 8, 8, 2, 1, 1));
        assumeFalse(Cuda.isAvailable(), "a GPU is present");
        // Valid arguments pass every check and reach the runtime, which has no device here.
        for (int perToken = 0; perToken < 2; perToken++) {
            int rc = forward(8, 8, 8, 2, 3, 4, 2, 8, 8, 2, 1, perToken);
            assertEquals(AttnkitNative.NO_DEVICE, rc, NativeCalls.lastError());
            assertTrue(NativeCalls.lastError().startsWith(fn + "CUDA error "), NativeCalls.lastError());
        }
    }

    @Test
    void theBackwardChecksArgumentsBeforeAnyCudaCall() {
        assumeTrue(CudaTesting.jniBuilt(), "the JNI library was not built (no nvcc, or -P '!cuda')");
        String fn = "attnkit_gated_attention_backward: ";
        // Argument order: dq, dk, dv, dgate, q, k, v, mask, gate, membership, dy, B, Tq, Tk, H, D, Dv, E, m, pt, causal
        CudaTesting.assertNativeRejects(fn + "no gradient asked for", () -> AttnkitNative.attnkit_gated_attention_backward(0, 0, 0, 0, 8,
                8, 8, 0, 8, 8, 8, 2, 3, 4, 2, 8, 8, 2, 1, 0, 0));
        CudaTesting.assertNativeRejects(fn + "dy must not be null", () -> AttnkitNative.attnkit_gated_attention_backward(0, 0, 0, 8, 8,
                8, 8, 0, 8, 8, 0, 2, 3, 4, 2, 8, 8, 2, 1, 0, 0));
        CudaTesting.assertNativeRejects(fn + "gate must not be null", () -> AttnkitNative.attnkit_gated_attention_backward(8, 0, 0, 0, 8,
                8, 8, 0, 0, 8, 8, 2, 3, 4, 2, 8, 8, 2, 1, 0, 0));
        CudaTesting.assertNativeRejects(fn + "membership must not be null", () -> AttnkitNative.attnkit_gated_attention_backward(8, 0, 0,
                0, 8, 8, 8, 0, 8, 0, 8, 2, 3, 4, 2, 8, 8, 2, 1, 0, 0));
        CudaTesting.assertNativeRejects(fn + "m must be in [1, 4], got 5", () -> AttnkitNative.attnkit_gated_attention_backward(8, 0, 0,
                0, 8, 8, 8, 0, 8, 8, 8, 2, 3, 4, 4, 8, 8, 4, 5, 1, 0));
        CudaTesting.assertNativeRejects(fn + "heads H must divide D (3 must divide 8)", () -> AttnkitNative
                .attnkit_gated_attention_backward(8, 0, 0, 0, 8, 8, 8, 0, 8, 8, 8, 2, 3, 4, 3, 8, 9, 3, 2, 1, 0));
        assumeFalse(Cuda.isAvailable(), "a GPU is present");
        int rc = AttnkitNative.attnkit_gated_attention_backward(0, 0, 0, 8, 8, 8, 8, 8, 8, 8, 8, 2, 3, 4, 2, 8, 8, 2,
                1, 1, 1);
        assertEquals(AttnkitNative.NO_DEVICE, rc, NativeCalls.lastError());
        assertTrue(NativeCalls.lastError().startsWith(fn + "CUDA error "), NativeCalls.lastError());
    }

    @Test
    void theOpValidatesBeforeTheCudaBackend() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> GatedAttention.apply(CudaTesting.fakeDeviceTensor(2, 3, 8), CudaTesting.fakeDeviceTensor(2, 4, 8),
                        CudaTesting.fakeDeviceTensor(2, 4, 8), 2, false, null, CudaTesting.fakeDeviceTensor(2, 3),
                        Membership.dropOne(2)));
        assertTrue(e.getMessage().startsWith("gated attention: gate") && e.getMessage().contains("experts E"),
                e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> GatedAttention.apply(CudaTesting.fakeDeviceTensor(2, 3, 8), CudaTesting.fakeDeviceTensor(2, 4, 8),
                        CudaTesting.fakeDeviceTensor(2, 4, 8), 2, false, null, CudaTesting.fakeDeviceTensor(2, 2),
                        Membership.dropOne(2)));
        assertTrue(e.getMessage().contains("membership") && e.getMessage().contains("cpu"), e.getMessage());
    }
}
