package org.attnkit.ops.arith;

import static org.attnkit.backend.cuda.CudaTensors.address;

import org.attnkit.backend.cuda.AttnkitNative;
import org.attnkit.backend.cuda.Cuda;
import org.attnkit.backend.cuda.CudaTensors;
import org.attnkit.backend.cuda.NativeCalls;
import org.attnkit.tensor.Device;
import org.attnkit.tensor.Tensor;

/**
 * {@link Add} and {@link Mul} on CUDA ({@code cuda/pointwise.cu}) for the two layouts a model needs:
 * equal shapes, and a {@code [C]} vector broadcast onto a {@code [..., C]} tensor (either operand).
 * The gradient of the broadcast operand is the deterministic column sum over the rows. Any other
 * broadcast throws {@link UnsupportedOperationException} naming both shapes (never a silent result).
 * The native library is touched only after {@link Cuda#requireAvailable} passed. Compiled; NOT yet run
 * on a GPU.
 */
final class BinaryCuda implements BinaryKernels {
    private static final int ADD = 0;
    private static final int MUL = 1;
    private static final int COPY = 2;

    private final String op;
    private final int code;

    private BinaryCuda(String op, int code) {
        this.op = op;
        this.code = code;
    }

    static BinaryCuda add() {
        return new BinaryCuda("add", ADD);
    }

    static BinaryCuda mul() {
        return new BinaryCuda("mul", MUL);
    }

    /** The [rows, cols] view of the broadcast result and which operand (if any) is the [cols] row. */
    private record Layout(int rows, int cols, boolean aIsRow, boolean bIsRow, int[] shape) {
    }

    private Layout layout(Tensor a, Tensor b) {
        if (a.shape().equals(b.shape())) {
            return new Layout(1, a.numel(), false, false, a.shape().toArray());
        }
        if (b.rank() == 1 && a.rank() >= 1 && b.dim(0) == a.dim(-1)) {
            return new Layout(a.numel() / Math.max(1, a.dim(-1)), a.dim(-1), false, true, a.shape().toArray());
        }
        if (a.rank() == 1 && b.rank() >= 1 && a.dim(0) == b.dim(-1)) {
            return new Layout(b.numel() / Math.max(1, b.dim(-1)), b.dim(-1), true, false, b.shape().toArray());
        }
        throw new UnsupportedOperationException(op + " on CUDA supports equal shapes and a [C] vector broadcast onto"
                + " [..., C]; got a " + a.shape() + " and b " + b.shape() + " (expand the operand on the device first,"
                + " or run this op on the cpu)");
    }

    @Override
    public Tensor forward(Tensor a, Tensor b) {
        Layout l = layout(a, b);
        Cuda.requireAvailable(op + " forward");
        Tensor c = CudaTensors.empty(a.device(), l.shape());
        if (c.numel() == 0) {
            return c;
        }
        CudaTensors.enter(a.device());
        // Both ops commute, so the [C] row always goes second.
        Tensor full = l.aIsRow() ? b : a;
        Tensor other = l.aIsRow() ? a : b;
        binary(op + " forward", c, full, other, l.rows(), l.cols(), l.aIsRow() || l.bIsRow(), code);
        return c;
    }

    @Override
    public Tensor[] backward(Tensor a, Tensor b, Tensor dc, boolean[] needsGrad) {
        Layout l = layout(a, b);
        Cuda.requireAvailable(op + " backward");
        Tensor[] grads = new Tensor[2];
        Device device = dc.device();
        CudaTensors.enter(device);
        for (int i = 0; i < 2; i++) {
            if (!needsGrad[i]) {
                continue;
            }
            Tensor self = i == 0 ? a : b;
            Tensor other = i == 0 ? b : a;
            boolean selfIsRow = i == 0 ? l.aIsRow() : l.bIsRow();
            boolean otherIsRow = i == 0 ? l.bIsRow() : l.aIsRow();
            Tensor g = CudaTensors.empty(device, self.shape().toArray());
            grads[i] = g;
            if (dc.numel() == 0) {
                if (g.numel() > 0) {
                    grads[i] = CudaTensors.zeros(device, self.shape().toArray());
                }
                continue;
            }
            // The full-shaped gradient: dc (add) or dc * other (mul).
            Tensor full = selfIsRow ? CudaTensors.empty(device, l.shape()) : g;
            if (code == ADD) {
                binary(op + " backward", full, dc, null, l.rows(), l.cols(), false, COPY);
            } else {
                binary(op + " backward", full, dc, other, l.rows(), l.cols(), otherIsRow, MUL);
            }
            if (selfIsRow) {
                NativeCalls.check(op + " backward", AttnkitNative.attnkit_column_sum(address(g, "d" + (i == 0 ? "a" : "b")),
                        address(full, "full"), l.rows(), l.cols()));
                CudaTensors.release(full);
            }
        }
        return grads;
    }

    private static void binary(String what, Tensor out, Tensor a, Tensor b, int rows, int cols, boolean bIsRow,
            int code) {
        NativeCalls.check(what, AttnkitNative.attnkit_binary(address(out, "out"), address(a, "a"), address(b, "b"),
                rows, cols, bIsRow ? 1 : rows, code));
    }
}
