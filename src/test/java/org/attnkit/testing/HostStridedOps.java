package org.attnkit.testing;

import org.attnkit.ops.shape.StridedOps;
import org.attnkit.tensor.Device;
import org.attnkit.tensor.Tensor;

/**
 * The contracts of {@code attnkit_strided_copy}, {@code attnkit_broadcast_op} and {@code attnkit_strided_sum}
 * ({@code native/include/attnkit.h}) emulated on F32 CPU tensors, with the kernels' float arithmetic and
 * summation order. Lets the CUDA backends' Java side (dims, strides, offsets, which operand goes where) run
 * and be checked against the reference where there is no GPU; the kernels themselves stay unverified.
 */
public final class HostStridedOps implements StridedOps {
    /** How many primitive calls ran (a test can check that the path under test was taken). */
    public int calls;

    @Override
    public void requireAvailable(String what) {
    }

    @Override
    public Tensor empty(Device device, int... shape) {
        // NaN-filled: an element the "kernel" forgot to write shows up.
        Tensor t = Tensor.zeros(shape);
        java.util.Arrays.fill(t.data(), Float.NaN);
        return t;
    }

    @Override
    public Tensor zeros(Device device, int... shape) {
        return Tensor.zeros(shape);
    }

    private static long count(int[] dims) {
        long n = 1;
        for (int d : dims) {
            n *= d;
        }
        return n;
    }

    /** The offset of flat index i (row-major over dims) at the given strides. */
    private static long offset(long i, int[] dims, int[] strides) {
        long off = 0;
        for (int d = dims.length - 1; d >= 0; d--) {
            off += (i % dims[d]) * (long) strides[d];
            i /= dims[d];
        }
        return off;
    }

    @Override
    public void copy(String what, Tensor out, long outOffset, int[] outStrides, Tensor in, long inOffset,
            int[] inStrides, int[] dims, double scale) {
        calls++;
        float s = (float) scale;
        float[] o = out.data();
        float[] x = in.data();
        long n = count(dims);
        for (long i = 0; i < n; i++) {
            float v = x[(int) (inOffset + offset(i, dims, inStrides))];
            o[(int) (outOffset + offset(i, dims, outStrides))] = s == 1f ? v : s * v;
        }
    }

    @Override
    public void broadcast(String what, Tensor out, Tensor a, int[] aStrides, Tensor b, int[] bStrides, Tensor c,
            int[] cStrides, int[] dims, int op) {
        calls++;
        float[] o = out.data();
        float[] av = a.data();
        float[] bv = b == null ? null : b.data();
        float[] cv = c == null ? null : c.data();
        long n = count(dims);
        for (long i = 0; i < n; i++) {
            float x = av[(int) offset(i, dims, aStrides)];
            float y = bv == null ? 0 : bv[(int) offset(i, dims, bStrides)];
            float r = switch (op) {
                case 0 -> x + y;
                case 1 -> x - y;
                case 2 -> x * y;
                case 3 -> x / y;
                case 4 -> -x;
                default -> {
                    float z = cv[(int) offset(i, dims, cStrides)];
                    yield x * (-y / (z * z));
                }
            };
            o[(int) i] = r;
        }
    }

    @Override
    public void sum(String what, Tensor out, Tensor in, int[] keptDims, int[] keptStrides, int[] redDims,
            int[] redStrides, double scale) {
        calls++;
        float[] o = out.data();
        float[] x = in == null ? null : in.data();
        long nOut = count(keptDims);
        long nRed = count(redDims);
        for (long j = 0; j < nOut; j++) {
            long base = offset(j, keptDims, keptStrides);
            double acc = 0;
            for (long r = 0; r < nRed; r++) {
                acc += x[(int) (base + offset(r, redDims, redStrides))];
            }
            o[(int) j] = (float) (acc * scale);
        }
    }

    @Override
    public void release(Tensor t) {
    }
}
