package org.attnkit.ops.shape;

import static org.attnkit.backend.cuda.CudaTensors.address;

import org.attnkit.backend.cuda.AttnkitNative;
import org.attnkit.backend.cuda.Cuda;
import org.attnkit.backend.cuda.CudaTensors;
import org.attnkit.backend.cuda.NativeCalls;
import org.attnkit.tensor.Device;
import org.attnkit.tensor.Tensor;

/**
 * The strided device primitives of {@code cuda/shape.cu} behind the CUDA backends of the shape operators,
 * the broadcasting arithmetic and the general reductions ({@code ShapeCuda}, {@code BinaryCuda},
 * {@code ReduceCuda}), with the contracts of {@code attnkit.h}. {@link #CUDA} runs them on the device; the
 * indirection lets the tests run those backends' argument computations (dims, strides, offsets) against a
 * host emulation of the same contracts where there is no GPU.
 */
public interface StridedOps {
    /** Throws {@code CudaUnavailableException} naming {@code what} where the device cannot run. */
    void requireAvailable(String what);

    /** An uninitialized F32 tensor on {@code device}. */
    Tensor empty(Device device, int... shape);

    /** A zero F32 tensor on {@code device}. */
    Tensor zeros(Device device, int... shape);

    /** {@code out[outOffset + c . outStrides] = scale * in[inOffset + c . inStrides]} for every coordinate c of dims. */
    void copy(String what, Tensor out, long outOffset, int[] outStrides, Tensor in, long inOffset, int[] inStrides,
            int[] dims, double scale);

    /**
     * out (contiguous over dims) = f(a, b, c) read at their strides: op 0 a+b, 1 a-b, 2 a*b, 3 a/b, 4 -a,
     * 5 a*(-b/(c*c)); b and c may be null where the op does not read them.
     */
    void broadcast(String what, Tensor out, Tensor a, int[] aStrides, Tensor b, int[] bStrides, Tensor c,
            int[] cStrides, int[] dims, int op);

    /** out (contiguous over keptDims) = scale * the fixed-order sum over redDims, in double. */
    void sum(String what, Tensor out, Tensor in, int[] keptDims, int[] keptStrides, int[] redDims, int[] redStrides,
            double scale);

    /** Frees a temporary now (a no-op where memory is managed). */
    void release(Tensor t);

    /** The device implementation. */
    StridedOps CUDA = new StridedOps() {
        @Override
        public void requireAvailable(String what) {
            Cuda.requireAvailable(what);
        }

        @Override
        public Tensor empty(Device device, int... shape) {
            return CudaTensors.empty(device, shape);
        }

        @Override
        public Tensor zeros(Device device, int... shape) {
            return CudaTensors.zeros(device, shape);
        }

        @Override
        public void copy(String what, Tensor out, long outOffset, int[] outStrides, Tensor in, long inOffset,
                int[] inStrides, int[] dims, double scale) {
            CudaTensors.enter(out.device());
            NativeCalls.check(what, AttnkitNative.attnkit_strided_copy(address(out, "out"), outOffset, outStrides,
                    address(in, "in"), inOffset, inStrides, dims, dims.length, scale));
        }

        @Override
        public void broadcast(String what, Tensor out, Tensor a, int[] aStrides, Tensor b, int[] bStrides, Tensor c,
                int[] cStrides, int[] dims, int op) {
            CudaTensors.enter(out.device());
            NativeCalls.check(what, AttnkitNative.attnkit_broadcast_op(address(out, "out"), address(a, "a"), aStrides,
                    address(b, "b"), bStrides, address(c, "c"), cStrides, dims, dims.length, op));
        }

        @Override
        public void sum(String what, Tensor out, Tensor in, int[] keptDims, int[] keptStrides, int[] redDims,
                int[] redStrides, double scale) {
            CudaTensors.enter(out.device());
            NativeCalls.check(what, AttnkitNative.attnkit_strided_sum(address(out, "out"), address(in, "in"), keptDims,
                    keptStrides, keptDims.length, redDims, redStrides, redDims.length, scale));
        }

        @Override
        public void release(Tensor t) {
            CudaTensors.release(t);
        }
    };
}
