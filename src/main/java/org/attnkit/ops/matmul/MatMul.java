package org.attnkit.ops.matmul;

import java.util.Arrays;
import org.attnkit.autograd.Autograd;
import org.attnkit.backend.Backend;
import org.attnkit.backend.Kernels;
import org.attnkit.tensor.Tensor;
import org.attnkit.util.Check;

/**
 * Matrix product {@code c = a b}: {@code a[M, K] x b[K, N] -> c[M, N]}, or batched
 * {@code a[..., M, K] x b[..., K, N] -> c[..., M, N]} with one product per batch index. Both operands
 * have the same rank and identical leading (batch) dims: batch dims are not broadcast (reshape or
 * expand first). a and b must share device and dtype.
 *
 * <p>Backward saves a and b and computes {@code da = dc b^T} (needs b) and {@code db = a^T dc}
 * (needs a), each only when asked for. The reference accumulates every dot product in double.
 */
public final class MatMul {
    static final Kernels<MatMulKernels> KERNELS =
            Kernels.of("matmul", (MatMulKernels) new MatMulRef()).with(Backend.SIMD, new MatMulSimdKernels())
                    .with(Backend.CUDA, new MatMulCuda());

    private MatMul() {
    }

    public static Tensor apply(Tensor a, Tensor b) {
        Check.notNull("matmul", "a", a);
        Check.notNull("matmul", "b", b);
        Check.sameDeviceAndType("matmul", "a", a, "b", b);
        checkShapes(a, b);
        MatMulKernels k = KERNELS.select(a, b);
        Tensor c = k.forward(a, b);
        return Autograd.record("matmul", c, (dc, needs) -> k.backward(a, b, dc, needs), a, b);
    }

    private static void checkShapes(Tensor a, Tensor b) {
        if (a.rank() < 2) {
            throw new IllegalArgumentException("matmul: a must have rank >= 2 [..., M, K], got rank " + a.rank()
                    + " with shape " + a.shape());
        }
        if (b.rank() < 2) {
            throw new IllegalArgumentException("matmul: b must have rank >= 2 [..., K, N], got rank " + b.rank()
                    + " with shape " + b.shape());
        }
        if (a.dim(-1) != b.dim(-2)) {
            throw new IllegalArgumentException("matmul: inner dimensions must match: a has K = " + a.dim(-1)
                    + " (shape " + a.shape() + ") but b has K = " + b.dim(-2) + " (shape " + b.shape() + ")");
        }
        int[] batchA = Arrays.copyOf(a.shape().toArray(), a.rank() - 2);
        int[] batchB = Arrays.copyOf(b.shape().toArray(), b.rank() - 2);
        if (!Arrays.equals(batchA, batchB)) {
            throw new IllegalArgumentException("matmul: batch dims of a " + Arrays.toString(batchA) + " (shape "
                    + a.shape() + ") and b " + Arrays.toString(batchB) + " (shape " + b.shape()
                    + ") must be equal; batch dims are not broadcast");
        }
    }
}
