package org.attnkit.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import org.attnkit.ops.dynamicconv.DynamicConv;
import org.attnkit.ops.lightconv.LightConv;
import org.attnkit.ops.mae.HeadMixture;
import org.attnkit.ops.mae.MaeGate;
import org.attnkit.random.DropConnect;
import org.attnkit.random.Philox;
import org.attnkit.tensor.DType;
import org.attnkit.tensor.Device;
import org.attnkit.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * What must hold on every machine, GPU or not: the jar loads, the CUDA backend reports whether it can
 * run and why not, and bad arguments are rejected before anything native runs. Tests that need the
 * machine to lack a GPU (or to have the JNI library built) say so with an assumption, so they show as
 * skipped rather than passed where they do not apply.
 */
class CudaWithoutGpuTest {
    private static final Device GPU = Device.cuda(0);

    @Test
    void theProbeNeverThrowsAndGivesAReasonWhenUnavailable() {
        Cuda.Status s = Cuda.status();
        assertSame(s, Cuda.status(), "the probe runs once per JVM");
        if (s.available()) {
            assertTrue(s.reason().isEmpty(), s.reason());
            assertFalse(s.devices().isEmpty());
        } else {
            assertFalse(s.reason().isBlank(), "an unavailable backend must say why");
            assertTrue(s.reason().contains("native library") || s.reason().contains("driver")
                    || s.reason().contains("device"), s.reason());
        }
    }

    @Test
    void withoutADriverTheReasonNamesTheMissingDriver() {
        assumeFalse(Cuda.isAvailable(), "a GPU is present");
        assumeFalse(new java.io.File("/usr/lib/x86_64-linux-gnu/libcuda.so.1").exists(), "a driver is installed");
        Cuda.Status s = Cuda.status();
        // JCuda's driver library cannot load libcuda.so.1: UnsatisfiedLinkError, caught by the probe.
        assertTrue(s.driver().startsWith("unavailable: "), s.driver());
        assertTrue(s.reason().contains("JCuda driver API unavailable"), s.reason());
    }

    @Test
    void theJniLibraryLoadsWithoutAGpuAndReportsTheRuntimesReason() {
        assumeTrue(CudaTesting.jniBuilt(), "the JNI library was not built (no nvcc, or -P '!cuda')");
        assumeFalse(Cuda.isAvailable(), "a GPU is present");
        Cuda.Status s = Cuda.status();
        assertTrue(s.nativeLibrary().startsWith("loaded (CUDA runtime "), s.nativeLibrary());
        assertTrue(AttnkitNative.attnkit_runtime_version() >= 12000, "runtime " + AttnkitNative.attnkit_runtime_version());
        int[] count = {-1};
        int rc = AttnkitNative.attnkit_device_count(count);
        assertEquals(AttnkitNative.NO_DEVICE, rc);
        assertEquals(0, count[0]);
        String msg = NativeCalls.lastError();
        assertTrue(msg.startsWith("attnkit_device_count: "), msg);
        CudaUnavailableException e = assertThrows(CudaUnavailableException.class,
                () -> NativeCalls.check("probe", AttnkitNative.NO_DEVICE));
        assertTrue(e.getMessage().startsWith("probe: attnkit_device_count: "), e.getMessage());
    }

    @Test
    void withoutTheJniLibraryTheReasonSaysItWasNotBuilt() {
        assumeFalse(CudaTesting.jniBuilt(), "the JNI library was built");
        Cuda.Status s = Cuda.status();
        assertFalse(s.available());
        assertTrue(s.nativeLibrary().startsWith("not built: "), s.nativeLibrary());
        assertTrue(s.reason().contains("attnkit native library not built"), s.reason());
    }

    @Test
    void theNativeLaunchersCheckArgumentsBeforeAnyCudaCall() {
        assumeTrue(CudaTesting.jniBuilt(), "the JNI library was not built (no nvcc, or -P '!cuda')");
        // Without a GPU any CUDA call would fail with NO_DEVICE: INVALID_ARGUMENT proves the check ran first.
        CudaTesting.assertNativeRejects("attnkit_lightconv_forward: K must be >= 1, got 0", () -> AttnkitNative.attnkit_lightconv_forward(
                8, 8, 8, 0, 1, 4, 4, 2, 0, 0, 1, 0, 0, 0, 0));
        CudaTesting.assertNativeRejects("attnkit_lightconv_forward: pad must be in [0, 2], got 3",
                () -> AttnkitNative.attnkit_lightconv_forward(8, 8, 8, 0, 1, 4, 4, 2, 3, 3, 1, 0, 0, 0, 0));
        CudaTesting.assertNativeRejects("attnkit_lightconv_forward: heads H must divide channels C (3 must divide 4)",
                () -> AttnkitNative.attnkit_lightconv_forward(8, 8, 8, 0, 1, 4, 4, 3, 3, 1, 1, 0, 0, 0, 0));
        CudaTesting.assertNativeRejects("attnkit_lightconv_forward: drop_p must be in [0, 1), got 1",
                () -> AttnkitNative.attnkit_lightconv_forward(8, 8, 8, 0, 1, 4, 4, 2, 3, 1, 1, 1.0, 0, 0, 0));
        CudaTesting.assertNativeRejects("attnkit_lightconv_forward: x must not be null",
                () -> AttnkitNative.attnkit_lightconv_forward(8, 0, 8, 0, 1, 4, 4, 2, 3, 1, 1, 0, 0, 0, 0));
        CudaTesting.assertNativeRejects("attnkit_lightconv_backward: drop_scope must be in [0, 1], got 2",
                () -> AttnkitNative.attnkit_lightconv_backward(8, 8, 0, 8, 8, 8, 1, 4, 4, 2, 3, 1, 1, 0, 0, 0, 2));
        CudaTesting.assertNativeRejects("attnkit_dynamicconv_forward: K must be in [1, 4096], got 5000",
                () -> AttnkitNative.attnkit_dynamicconv_forward(8, 8, 0, 8, 0, 1, 4, 4, 4, 2, 5000, 0, 1, 0, 0, 0, 0, 0));
        CudaTesting.assertNativeRejects("attnkit_dynamicconv_backward: dquery given but query is null (x is the query)",
                () -> AttnkitNative.attnkit_dynamicconv_backward(8, 8, 0, 0, 8, 8, 0, 8, 0, 1, 4, 4, 4, 2, 3, 1, 1, 0,
                        0, 0, 0, 0));
        CudaTesting.assertNativeRejects("attnkit_head_mixture_forward: m must be in [1, 4], got 5",
                () -> AttnkitNative.attnkit_head_mixture_forward(8, 8, 8, 8, 1, 2, 8, 3, 4, 5, 0));
        CudaTesting.assertNativeRejects("attnkit_add: n must be in [0, 1099511627776], got -1",
                () -> AttnkitNative.attnkit_add(8, 8, 8, -1));
        CudaTesting.assertNativeRejects("attnkit_mae_gate_backward: T must be >= 1, got 0",
                () -> AttnkitNative.attnkit_mae_gate_backward(8, 0, 0, 0, 0, 8, 8, 0, 8, 0, 8, 8, 1, 0, 4, 3, 2, 0));
    }

    @Test
    void theKernelsPhiloxStreamMatchesJavaBitForBit() {
        assumeTrue(CudaTesting.jniBuilt(), "the JNI library was not built (no nvcc, or -P '!cuda')");
        // The host build of cuda/common.cuh's philox_word: the device build differs only in __umulhi.
        long[] seeds = {0, 1, -1, 0x123456789ABCDEFL, 42};
        long[] offsets = {0, 5, 1L << 32, Long.MAX_VALUE};
        long[] far = {(1L << 31) - 1, 1L << 31, (1L << 34) + 3, Long.MAX_VALUE >>> 2};
        int checked = 0;
        for (long seed : seeds) {
            for (long offset : offsets) {
                for (long i = 0; i < 300; i++) {
                    assertEquals(Philox.word(seed, offset, i), AttnkitNative.attnkit_philox_word(seed, offset, i),
                            "seed " + seed + " offset " + offset + " index " + i);
                    checked++;
                }
                for (long i : far) {
                    assertEquals(Philox.word(seed, offset, i), AttnkitNative.attnkit_philox_word(seed, offset, i),
                            "seed " + seed + " offset " + offset + " index " + i);
                    checked++;
                }
            }
        }
        assertEquals(20 * 304, checked);
    }

    @Test
    void theKernelsDropConnectDecisionMatchesJava() {
        assumeTrue(CudaTesting.jniBuilt(), "the JNI library was not built (no nvcc, or -P '!cuda')");
        // p values whose float rounding or 2^-24 grid could flip a decision if the kernel compared in float.
        double[] ps = {0.1, 0.3, 0.5, 1e-9, 0.2 + 1e-17, 1.0 - 1e-7, 3.0 / 16777216, 2.5 / 16777216};
        for (double p : ps) {
            DropConnect d = new DropConnect(p, 99, 5, DropConnect.Scope.HEAD_KERNEL);
            int kept = 0;
            for (long i = 0; i < 4000; i++) {
                double expected = d.factor(i);
                float actual = AttnkitNative.attnkit_drop_factor(p, 99, 5, i);
                assertEquals((float) expected, actual, "p " + p + " index " + i);
                kept += actual != 0 ? 1 : 0;
            }
            assertTrue(p > 0.5 || kept > 0, "p " + p + " kept nothing");
        }
    }

    @Test
    void copyingToCudaWithoutCudaFailsWithTheProbesReason() {
        assumeFalse(Cuda.isAvailable(), "a GPU is present");
        Tensor x = Tensor.randn(1, 2, 3);
        CudaUnavailableException e = assertThrows(CudaUnavailableException.class, () -> x.to(GPU));
        assertTrue(e.getMessage().contains("CUDA is unavailable (" + Cuda.status().reason() + ")"), e.getMessage());
        assertSame(x, x.to(Device.CPU), "to() the tensor's own device is the tensor itself");
    }

    @Test
    void onlyF32TensorsGoToCuda() {
        Tensor x = Tensor.zeros(DType.F64, 2, 2);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> x.to(GPU));
        assertTrue(e.getMessage().contains("F32 only") && e.getMessage().contains("F64"), e.getMessage());
    }

    @Test
    void lightConvValidatesBeforeTheCudaBackend() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LightConv.apply(CudaTesting.fakeDeviceTensor(2, 5, 6), CudaTesting.fakeDeviceTensor(4, 3), null, LightConv.Options.centered(3)));
        assertTrue(e.getMessage().contains("C = 6") && e.getMessage().contains("H = 4"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> LightConv.apply(CudaTesting.fakeDeviceTensor(2, 5, 6), CudaTesting.fakeDeviceTensor(2, 3), null, LightConv.Options.padded(3)));
        assertTrue(e.getMessage().contains("P = 3"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> LightConv.apply(CudaTesting.fakeDeviceTensor(2, 5, 6), Tensor.zeros(2, 3), null, LightConv.Options.centered(3)));
        assertTrue(e.getMessage().contains("cuda:0") && e.getMessage().contains("cpu"), e.getMessage());
        assumeFalse(Cuda.isAvailable(), "a GPU is present");
        // Valid arguments reach the CUDA backend, which refuses with the reason before any native call.
        CudaUnavailableException u = assertThrows(CudaUnavailableException.class,
                () -> LightConv.apply(CudaTesting.fakeDeviceTensor(2, 5, 6), CudaTesting.fakeDeviceTensor(2, 3), CudaTesting.fakeDeviceTensor(6), LightConv.Options.centered(3)
                        .withDropConnect(new DropConnect(0.1, 7, 0, DropConnect.Scope.POSITION))));
        assertTrue(u.getMessage().startsWith("lightconv forward: CUDA is unavailable ("), u.getMessage());
    }

    @Test
    void dynamicConvValidatesBeforeTheCudaBackend() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> DynamicConv.apply(CudaTesting.fakeDeviceTensor(2, 5, 6), null, CudaTesting.fakeDeviceTensor(7, 6), null, 2, DynamicConv.Options.centered(3)));
        assertTrue(e.getMessage().contains("7") && e.getMessage().contains("heads H = 2"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> DynamicConv.apply(CudaTesting.fakeDeviceTensor(2, 5, 6), CudaTesting.fakeDeviceTensor(2, 4, 3), CudaTesting.fakeDeviceTensor(6, 3), null, 2,
                        DynamicConv.Options.centered(3)));
        assertTrue(e.getMessage().contains("query"), e.getMessage());
        assumeFalse(Cuda.isAvailable(), "a GPU is present");
        CudaUnavailableException u = assertThrows(CudaUnavailableException.class,
                () -> DynamicConv.apply(CudaTesting.fakeDeviceTensor(2, 5, 6), null, CudaTesting.fakeDeviceTensor(6, 6), CudaTesting.fakeDeviceTensor(6), 2, DynamicConv.Options.centered(3)));
        assertTrue(u.getMessage().startsWith("dynamicconv forward: CUDA is unavailable ("), u.getMessage());
    }

    @Test
    void dynamicConvOnCudaRejectsAKernelSizeItCannotRunWithAMessage() {
        // K = 5000 > 4096: an error naming K, before availability or any native call; never zeros.
        UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class,
                () -> DynamicConv.apply(CudaTesting.fakeDeviceTensor(1, 2, 2), null, CudaTesting.fakeDeviceTensor(5000, 2), null, 1,
                        DynamicConv.Options.padded(0)));
        assertTrue(e.getMessage().contains("K = 5000") && e.getMessage().contains("4096"), e.getMessage());
    }

    @Test
    void headMixtureAndGateValidateBeforeTheCudaBackend() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> HeadMixture.apply(CudaTesting.fakeDeviceTensor(2, 3, 8), CudaTesting.fakeDeviceTensor(2, 5), CudaTesting.fakeDeviceTensor(4, 4)));
        assertTrue(e.getMessage().contains("gate"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> MaeGate.apply(CudaTesting.fakeDeviceTensor(2, 3, 8), CudaTesting.fakeDeviceTensor(4, 7), null, CudaTesting.fakeDeviceTensor(3, 4), null, false));
        assertTrue(e.getMessage().contains("w1"), e.getMessage());
        assumeFalse(Cuda.isAvailable(), "a GPU is present");
        CudaUnavailableException u = assertThrows(CudaUnavailableException.class,
                () -> MaeGate.apply(CudaTesting.fakeDeviceTensor(2, 3, 8), CudaTesting.fakeDeviceTensor(4, 8), null, CudaTesting.fakeDeviceTensor(3, 4), null, true));
        assertTrue(u.getMessage().startsWith("mae gate forward: CUDA is unavailable ("), u.getMessage());
    }

    @Test
    void cpuOperatorsIgnoreTheRegisteredCudaBackend() {
        // Registering the CUDA kernels must not load anything native for CPU tensors.
        Tensor y = LightConv.apply(Tensor.randn(3, 1, 4, 2), Tensor.randn(4, 1, 3), null, LightConv.Options.causal(3));
        assertEquals(Device.CPU, y.device());
        assertEquals(8, y.numel());
    }
}
