package org.attnkit.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import org.attnkit.ops.attention.Attention;
import org.attnkit.tensor.Device;
import org.attnkit.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * Flash attention on CUDA where there is no GPU: the native checks reject bad arguments before any CUDA
 * call, shapes beyond the kernel's limits are refused with a message before availability is asked, and
 * valid calls reach the CUDA backend, which refuses with the probe's reason.
 */
class CudaAttentionWithoutGpuTest {
    private static final Device GPU = Device.cuda(0);

    @Test
    void theNativeLaunchersCheckArgumentsBeforeAnyCudaCall() {
        assumeTrue(CudaTesting.jniBuilt(), "the JNI library was not built (no nvcc, or -P '!cuda')");
        CudaTesting.assertNativeRejects("attnkit_attention_forward: Tk must be >= 1, got 0",
                () -> AttnkitNative.attnkit_attention_forward(8, 8, 8, 8, 0, 2, 3, 0, 2, 8, 8, 0));
        CudaTesting.assertNativeRejects("attnkit_attention_forward: heads H must divide D (3 must divide 8)",
                () -> AttnkitNative.attnkit_attention_forward(8, 8, 8, 8, 0, 2, 3, 4, 3, 8, 9, 0));
        CudaTesting.assertNativeRejects("attnkit_attention_forward: heads H must divide Dv (2 must divide 5)",
                () -> AttnkitNative.attnkit_attention_forward(8, 8, 8, 8, 0, 2, 3, 4, 2, 8, 5, 0));
        CudaTesting.assertNativeRejects("attnkit_attention_forward: D/H must be in [1, 128], got 256",
                () -> AttnkitNative.attnkit_attention_forward(8, 8, 8, 8, 0, 2, 3, 4, 1, 256, 8, 0));
        CudaTesting.assertNativeRejects("attnkit_attention_forward: Dv/H must be in [1, 128], got 130",
                () -> AttnkitNative.attnkit_attention_forward(8, 8, 8, 8, 0, 2, 3, 4, 2, 8, 260, 1));
        CudaTesting.assertNativeRejects("attnkit_attention_forward: B*H must be in [1, 65535], got 65536",
                () -> AttnkitNative.attnkit_attention_forward(8, 8, 8, 8, 0, 4096, 3, 4, 16, 64, 64, 0));
        CudaTesting.assertNativeRejects("attnkit_attention_forward: v must not be null",
                () -> AttnkitNative.attnkit_attention_forward(8, 8, 8, 0, 0, 2, 3, 4, 2, 8, 8, 0));
        CudaTesting.assertNativeRejects("attnkit_attention_backward: no gradient asked for",
                () -> AttnkitNative.attnkit_attention_backward(0, 0, 0, 8, 8, 8, 0, 8, 2, 3, 4, 2, 8, 8, 0));
        CudaTesting.assertNativeRejects("attnkit_attention_backward: dy must not be null",
                () -> AttnkitNative.attnkit_attention_backward(8, 0, 0, 8, 8, 8, 0, 0, 2, 3, 4, 2, 8, 8, 0));
        assumeFalse(Cuda.isAvailable(), "a GPU is present");
        // Valid arguments pass every check and reach the runtime, which has no device here.
        int rc = AttnkitNative.attnkit_attention_forward(8, 8, 8, 8, 8, 2, 3, 4, 2, 8, 8, 1);
        assertEquals(AttnkitNative.NO_DEVICE, rc, NativeCalls.lastError());
        assertTrue(NativeCalls.lastError().startsWith("attnkit_attention_forward: CUDA error "), NativeCalls.lastError());
    }

    @Test
    void shapesBeyondTheKernelsLimitsAreRefusedBeforeAvailability() {
        UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class,
                () -> Attention.apply(CudaTesting.fakeDeviceTensor(1, 2, 256), CudaTesting.fakeDeviceTensor(1, 3, 256), CudaTesting.fakeDeviceTensor(1, 3, 8), 1, false, null));
        assertTrue(e.getMessage().contains("D/H = 256") && e.getMessage().contains("128"), e.getMessage());
        e = assertThrows(UnsupportedOperationException.class,
                () -> Attention.apply(CudaTesting.fakeDeviceTensor(4097, 1, 16), CudaTesting.fakeDeviceTensor(4097, 1, 16), CudaTesting.fakeDeviceTensor(4097, 1, 16), 16, false, null));
        assertTrue(e.getMessage().contains("B * H = 65552"), e.getMessage());
    }

    @Test
    void attentionValidatesBeforeTheCudaBackend() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Attention.apply(CudaTesting.fakeDeviceTensor(2, 3, 8), CudaTesting.fakeDeviceTensor(2, 4, 8), CudaTesting.fakeDeviceTensor(2, 5, 8), 2, false, null));
        assertTrue(e.getMessage().contains("Tk"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> Attention.apply(CudaTesting.fakeDeviceTensor(2, 3, 8), CudaTesting.fakeDeviceTensor(2, 4, 8), CudaTesting.fakeDeviceTensor(2, 4, 8), 2, true, Tensor.zeros(2, 4)));
        assertTrue(e.getMessage().contains("cuda:0") && e.getMessage().contains("cpu"), e.getMessage());
        assumeFalse(Cuda.isAvailable(), "a GPU is present");
        CudaUnavailableException u = assertThrows(CudaUnavailableException.class,
                () -> Attention.apply(CudaTesting.fakeDeviceTensor(2, 3, 8), CudaTesting.fakeDeviceTensor(2, 4, 8), CudaTesting.fakeDeviceTensor(2, 4, 6), 2, true, CudaTesting.fakeDeviceTensor(2, 4)));
        assertTrue(u.getMessage().startsWith("attention forward: CUDA is unavailable ("), u.getMessage());
    }
}
