package org.attnkit.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.function.Function;
import java.util.function.Supplier;
import org.attnkit.backend.Backend;
import org.attnkit.testing.Compare;
import org.attnkit.testing.DeviceStandIn;
import org.attnkit.tensor.Device;
import org.attnkit.tensor.Tensor;

/** What the CUDA tests share: device-vs-reference comparison and stand-ins for device tensors. */
final class CudaTesting {
    /** The device the GPU tests run on. */
    static final Device GPU = Device.cuda(0);

    private CudaTesting() {
    }

    /** A tensor "on cuda:0" backed by nothing, for testing checks that must run before any native call. */
    static Tensor fakeDeviceTensor(int... shape) {
        return DeviceStandIn.on(GPU, shape);
    }

    /** Whether the JNI library was built into the classes (nvcc present and profile cuda active). */
    /**
     * The native call returns INVALID_ARGUMENT, {@code attnkit_last_error()} is exactly {@code expected}, and
     * {@link NativeCalls#check} turns that status into an IllegalArgumentException carrying the message.
     */
    static void assertNativeRejects(String expected, Supplier<Integer> call) {
        int rc = call.get();
        assertEquals(AttnkitNative.INVALID_ARGUMENT, rc, "status for: " + expected);
        assertEquals(expected, NativeCalls.lastError());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> NativeCalls.check("op", rc));
        assertEquals("op: " + expected, e.getMessage());
    }

    static boolean jniBuilt() {
        return CudaTesting.class.getClassLoader().getResource(Cuda.JNI_RESOURCE) != null;
    }

    /**
     * Runs {@code op} with backward on the reference (CPU) and on CUDA and compares the output and the
     * gradient of every non-null input ({@code names} name them in messages, "d" + name).
     */
    static void compareWithReference(Tensor[] inputs, Tensor dy, Function<Tensor[], Tensor> op,
                                            double fwdAtol, double fwdRtol, double bwdAtol, double bwdRtol,
                                            String... names) {
        Tensor[] ref = run(inputs, dy, op, Device.CPU);
        Tensor[] gpu = run(inputs, dy, op, GPU);
        Compare.close("forward", ref[0], gpu[0].to(Device.CPU), fwdAtol, fwdRtol);
        for (int i = 0; i < inputs.length; i++) {
            if (inputs[i] != null) {
                Compare.close("d" + names[i], ref[i + 1], gpu[i + 1].to(Device.CPU), bwdAtol, bwdRtol);
            }
        }
    }

    private static Tensor[] run(Tensor[] inputs, Tensor dy, Function<Tensor[], Tensor> op, Device device) {
        Tensor[] in = new Tensor[inputs.length];
        for (int i = 0; i < in.length; i++) {
            in[i] = inputs[i] == null ? null : inputs[i].copy().to(device).requiresGrad(true);
        }
        Tensor y = device.isCpu() ? Compare.on(Backend.REF, () -> op.apply(in)) : op.apply(in);
        if (device.isCpu()) {
            Compare.on(Backend.REF, () -> {
                y.backward(dy);
                return null;
            });
        } else {
            y.backward(dy.to(device));
        }
        Tensor[] out = new Tensor[in.length + 1];
        out[0] = y;
        for (int i = 0; i < in.length; i++) {
            out[i + 1] = in[i] == null ? null : in[i].grad();
        }
        return out;
    }
}
