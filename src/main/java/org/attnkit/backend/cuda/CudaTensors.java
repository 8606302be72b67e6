package org.attnkit.backend.cuda;

import org.attnkit.tensor.DType;
import org.attnkit.tensor.Device;
import org.attnkit.tensor.Tensor;

/**
 * Device tensors: copies between the host and a CUDA device ({@code Tensor.to(Device)} lands here),
 * new device tensors for kernel outputs, and the raw addresses the native launchers take.
 * CUDA tensors are float32 (bf16 storage comes later).
 */
public final class CudaTensors {
    private CudaTensors() {
    }

    /** A copy of {@code t} on {@code device} (host to device, device to host, or device to device). */
    public static Tensor copy(Tensor t, Device device) {
        if (t.device().equals(device)) {
            return t;
        }
        if (device.isCpu()) {
            Cuda.requireAvailable("copy a tensor from " + t.device() + " to the cpu");
            float[] host = new float[t.numel()];
            if (host.length > 0) {
                JCudaDriverApi.makeCurrent(t.device().index());
                JCudaDriverApi.copyToHost(host, address(t, "tensor"));
            }
            return Tensor.wrap(host, t.shape().toArray());
        }
        return onDevice(t, device);
    }

    /** A new tensor on t's CUDA device with t's values (a device-to-device copy): {@code Tensor.copy()} there. */
    public static Tensor duplicate(Tensor t) {
        return onDevice(t, t.device());
    }

    /** A new tensor on the CUDA {@code device} holding t's values (t on the host or on a device). */
    private static Tensor onDevice(Tensor t, Device device) {
        if (t.dtype() != DType.F32) {
            throw new IllegalArgumentException("CUDA tensors are F32 only; this tensor is " + t.dtype()
                    + " (convert it with to(DType.F32) first)");
        }
        Cuda.requireAvailable("copy a tensor from " + t.device() + " to " + device);
        Tensor out = empty(device, t.shape().toArray());
        if (t.numel() > 0) {
            JCudaDriverApi.makeCurrent(device.index());
            if (t.device().isCpu()) {
                JCudaDriverApi.copyToDevice(address(out, "output"), t.data());
            } else {
                JCudaDriverApi.copyDeviceToDevice(address(out, "output"), address(t, "tensor"),
                        (long) t.numel() * Float.BYTES);
            }
        }
        return out;
    }

    /** Overwrites the CUDA tensor {@code dst} in place with the host values {@code src} (dst.numel() of them). */
    public static void upload(Tensor dst, float[] src) {
        if (src.length != dst.numel()) {
            throw new IllegalArgumentException("upload: " + src.length + " values for a tensor of " + dst.numel());
        }
        Cuda.requireAvailable("write a tensor on " + dst.device());
        if (src.length > 0) {
            JCudaDriverApi.makeCurrent(dst.device().index());
            JCudaDriverApi.copyToDevice(address(dst, "tensor"), src);
        }
    }

    /** An uninitialized F32 tensor on {@code device} (the kernels write every element of their outputs). */
    public static Tensor empty(Device device, int... shape) {
        int n = 1;
        for (int d : shape) {
            n = Math.multiplyExact(n, d);
        }
        return Tensor.onStorage(CudaStorage.allocate(device, n), shape);
    }

    /** A zero-filled F32 tensor on {@code device}. */
    public static Tensor zeros(Device device, int... shape) {
        Tensor t = empty(device, shape);
        if (t.numel() > 0) {
            JCudaDriverApi.zero(address(t, "tensor"), t.numel());
        }
        return t;
    }

    /**
     * a + b elementwise on their device, as a new tensor: what gradient accumulation needs so that a
     * backward pass stays on the device ({@code Autograd.sumOf} can delegate here for CUDA tensors).
     */
    public static Tensor sum(Tensor a, Tensor b) {
        if (!a.shape().equals(b.shape())) {
            throw new IllegalArgumentException("sum: shapes " + a.shape() + " and " + b.shape() + " differ");
        }
        if (!a.device().equals(b.device()) || a.device().isCpu()) {
            throw new IllegalArgumentException("sum: both tensors must be on one CUDA device, got " + a.device()
                    + " and " + b.device());
        }
        Cuda.requireAvailable("sum on " + a.device());
        Tensor out = empty(a.device(), a.shape().toArray());
        enter(a.device());
        NativeCalls.check("sum", AttnkitNative.attnkit_add(address(out, "out"), address(a, "a"), address(b, "b"),
                a.numel()));
        return out;
    }

    /** The device address of {@code t}'s buffer, or 0 for null; {@code name} goes into the error message. */
    public static long address(Tensor t, String name) {
        if (t == null) {
            return 0;
        }
        if (!(t.storage() instanceof CudaStorage cs)) {
            throw new IllegalArgumentException(name + " must be a CUDA tensor backed by a device buffer, got a tensor on "
                    + t.device() + " with " + t.storage().getClass().getSimpleName());
        }
        return cs.address();
    }

    /** Makes the primary context of {@code device} current on this thread before a native call. */
    public static void enter(Device device) {
        JCudaDriverApi.makeCurrent(device.index());
    }

    /** Frees {@code t}'s device buffer now (a no-op for CPU tensors). */
    public static void release(Tensor t) {
        if (t != null && t.storage() instanceof CudaStorage cs) {
            cs.close();
        }
    }

    /** Waits for the device's queued work and surfaces any asynchronous kernel failure. */
    public static void synchronize(Device device) {
        Cuda.requireAvailable("synchronize " + device);
        JCudaDriverApi.makeCurrent(device.index());
        NativeCalls.check("synchronize", AttnkitNative.attnkit_synchronize());
    }

    /** GPU milliseconds of {@code work} on {@code device}, measured with CUDA events. */
    public static float time(Device device, Runnable work) {
        Cuda.requireAvailable("time work on " + device);
        JCudaDriverApi.makeCurrent(device.index());
        return JCudaDriverApi.time(work);
    }
}
