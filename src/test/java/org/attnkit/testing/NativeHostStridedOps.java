package org.attnkit.testing;

import org.attnkit.backend.cuda.AttnkitNative;
import org.attnkit.backend.cuda.Cuda;
import org.attnkit.backend.cuda.NativeCalls;
import org.attnkit.ops.shape.StridedOps;
import org.attnkit.tensor.Device;
import org.attnkit.tensor.Tensor;

/**
 * The strided primitives run by the kernels' own element code on host memory ({@code attnkit_*_host} of
 * {@code cuda/shape.cu}): where the JNI library is built but there is no GPU, the CUDA backends' Java side
 * and the kernels' index arithmetic are tested together against the reference (only the launch itself stays
 * unverified). F32 CPU tensors stand in for device tensors.
 */
public final class NativeHostStridedOps implements StridedOps {
    /** Whether the JNI library with the host entry points loaded here. */
    public static boolean available() {
        return Cuda.status().nativeLibrary().startsWith("loaded");
    }

    @Override
    public void requireAvailable(String what) {
    }

    @Override
    public Tensor empty(Device device, int... shape) {
        Tensor t = Tensor.zeros(shape);
        java.util.Arrays.fill(t.data(), Float.NaN);
        return t;
    }

    @Override
    public Tensor zeros(Device device, int... shape) {
        return Tensor.zeros(shape);
    }

    private static float[] data(Tensor t) {
        return t == null ? null : t.data();
    }

    private static long len(Tensor t) {
        return t == null ? 0 : t.numel();
    }

    @Override
    public void copy(String what, Tensor out, long outOffset, int[] outStrides, Tensor in, long inOffset,
            int[] inStrides, int[] dims, double scale) {
        NativeCalls.check(what, AttnkitNative.attnkit_strided_copy_host(out.data(), out.numel(), outOffset, outStrides,
                in.data(), in.numel(), inOffset, inStrides, dims, dims.length, scale));
    }

    @Override
    public void broadcast(String what, Tensor out, Tensor a, int[] aStrides, Tensor b, int[] bStrides, Tensor c,
            int[] cStrides, int[] dims, int op) {
        NativeCalls.check(what, AttnkitNative.attnkit_broadcast_op_host(out.data(), out.numel(), a.data(), a.numel(),
                aStrides, data(b), len(b), bStrides, data(c), len(c), cStrides, dims, dims.length, op));
    }

    @Override
    public void sum(String what, Tensor out, Tensor in, int[] keptDims, int[] keptStrides, int[] redDims,
            int[] redStrides, double scale) {
        NativeCalls.check(what, AttnkitNative.attnkit_strided_sum_host(out.data(), out.numel(), data(in), len(in),
                keptDims, keptStrides, keptDims.length, redDims, redStrides, redDims.length, scale));
    }

    @Override
    public void release(Tensor t) {
    }
}
