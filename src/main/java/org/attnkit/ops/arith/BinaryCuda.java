package org.attnkit.ops.arith;

import static org.attnkit.backend.cuda.CudaTensors.address;

import org.attnkit.backend.cuda.AttnkitNative;
import org.attnkit.backend.cuda.Cuda;
import org.attnkit.backend.cuda.CudaTensors;
import org.attnkit.backend.cuda.NativeCalls;
import org.attnkit.ops.shape.StridedOps;
import org.attnkit.tensor.Device;
import org.attnkit.tensor.Tensor;

/**
 * {@link Add}, {@link Sub}, {@link Mul} and {@link Div} on CUDA. Add and Mul keep their fast paths of
 * {@code cuda/pointwise.cu} for equal shapes and a {@code [C]} vector broadcast onto {@code [..., C]}
 * (the broadcast operand's gradient is a deterministic column sum). Every other case, and Sub and Div
 * always, run the general NumPy broadcast of {@code cuda/shape.cu}: one strided elementwise kernel for the
 * value and for each gradient's full-shape product, then a fixed-order sum (in double) over the dims the
 * operand was broadcast along. Ranks above {@value AttnkitNative#MAX_RANK} throw
 * {@link UnsupportedOperationException} naming both shapes. The native library is touched only after
 * {@link Cuda#requireAvailable} passed. Compiled and verified on an H200 (2026-12-04: the CUDA equivalence tests
 * pass).
 */
final class BinaryCuda implements BinaryKernels {
    static final int ADD = 0;
    static final int MUL = 1;
    private static final int COPY = 2;
    static final int SUB = 3;
    static final int DIV = 4;

    // Op codes of attnkit_broadcast_op.
    private static final int B_ADD = 0;
    private static final int B_SUB = 1;
    private static final int B_MUL = 2;
    private static final int B_DIV = 3;
    private static final int B_NEG = 4;
    private static final int B_DIV_GRAD_B = 5;

    private final String op;
    private final int code;
    private final StridedOps ops;

    private BinaryCuda(String op, int code) {
        this(op, code, StridedOps.CUDA);
    }

    /** With other strided primitives (tests: a host emulation of the kernels' contract). */
    BinaryCuda(String op, int code, StridedOps ops) {
        this.op = op;
        this.code = code;
        this.ops = ops;
    }

    static BinaryCuda add() {
        return new BinaryCuda("add", ADD);
    }

    static BinaryCuda mul() {
        return new BinaryCuda("mul", MUL);
    }

    static BinaryCuda sub() {
        return new BinaryCuda("sub", SUB);
    }

    static BinaryCuda div() {
        return new BinaryCuda("div", DIV);
    }

    /** The [rows, cols] view of the broadcast result and which operand (if any) is the [cols] row. */
    private record Layout(int rows, int cols, boolean aIsRow, boolean bIsRow, int[] shape) {
    }

    /** The fast-path layout of add/mul, or null when the general broadcast path runs. */
    private Layout layout(Tensor a, Tensor b) {
        if (code != ADD && code != MUL) {
            return null;
        }
        if (a.shape().equals(b.shape())) {
            return new Layout(1, a.numel(), false, false, a.shape().toArray());
        }
        if (b.rank() == 1 && a.rank() >= 1 && b.dim(0) == a.dim(-1)) {
            return new Layout(a.numel() / Math.max(1, a.dim(-1)), a.dim(-1), false, true, a.shape().toArray());
        }
        if (a.rank() == 1 && b.rank() >= 1 && a.dim(0) == b.dim(-1)) {
            return new Layout(b.numel() / Math.max(1, b.dim(-1)), b.dim(-1), true, false, b.shape().toArray());
        }
        return null;
    }

    @Override
    public Tensor forward(Tensor a, Tensor b) {
        Layout l = layout(a, b);
        if (l == null) {
            return General.of(op, a, b).forward(this, a, b);
        }
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
        if (l == null) {
            return General.of(op, a, b).backward(this, a, b, dc, needsGrad);
        }
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

    /**
     * The general broadcast of a and b: the output dims, and each operand's read strides over them (0 along
     * the dims it is broadcast along, including the leading dims its rank lacks).
     */
    private record General(int[] dims, int[] aStrides, int[] bStrides, int[] outShape) {
        static General of(String op, Tensor a, Tensor b) {
            int[] outShape = Broadcast.shape(op, a, b);
            if (outShape.length > AttnkitNative.MAX_RANK) {
                throw new UnsupportedOperationException(op + " on CUDA broadcasts tensors of rank <= "
                        + AttnkitNative.MAX_RANK + "; got a " + a.shape() + " and b " + b.shape());
            }
            int[] dims = outShape.length == 0 ? new int[] {1} : outShape;
            return new General(dims, readStrides(a.shape().toArray(), dims), readStrides(b.shape().toArray(), dims),
                    outShape);
        }

        static int[] readStrides(int[] in, int[] dims) {
            int rank = dims.length;
            int offset = rank - in.length;
            int[] s = new int[rank];
            int acc = 1;
            for (int d = rank - 1; d >= offset && d >= 0; d--) {
                int size = in[d - offset];
                s[d] = size == 1 ? 0 : acc;
                acc *= size;
            }
            return s;
        }

        int[] contiguous() {
            return readStrides(dims, dims);
        }

        long numel() {
            long n = 1;
            for (int d : dims) {
                n *= d;
            }
            return n;
        }

        Tensor forward(BinaryCuda k, Tensor a, Tensor b) {
            StridedOps ops = k.ops;
            ops.requireAvailable(k.op + " forward");
            Tensor c = ops.empty(a.device(), outShape);
            if (numel() == 0) {
                return c;
            }
            int bop = switch (k.code) {
                case ADD -> B_ADD;
                case SUB -> B_SUB;
                case MUL -> B_MUL;
                default -> B_DIV;
            };
            ops.broadcast(k.op + " forward", c, a, aStrides, b, bStrides, null, null, dims, bop);
            return c;
        }

        Tensor[] backward(BinaryCuda k, Tensor a, Tensor b, Tensor dc, boolean[] needsGrad) {
            StridedOps ops = k.ops;
            ops.requireAvailable(k.op + " backward");
            Tensor[] grads = new Tensor[2];
            int[] full = contiguous();
            for (int i = 0; i < 2; i++) {
                if (!needsGrad[i]) {
                    continue;
                }
                Tensor self = i == 0 ? a : b;
                if (numel() == 0) {
                    grads[i] = ops.zeros(dc.device(), self.shape().toArray());
                    continue;
                }
                // The gradient at every output element, shaped like the output.
                Tensor g = ops.empty(dc.device(), outShape);
                String what = k.op + " backward";
                switch (k.code) {
                    // A copy, not dc + 0 (which would turn -0 into +0).
                    case ADD -> ops.copy(what, g, 0, full, dc, 0, full, dims, 1.0);
                    case SUB -> {
                        if (i == 0) {
                            ops.copy(what, g, 0, full, dc, 0, full, dims, 1.0);
                        } else {
                            ops.broadcast(what, g, dc, full, null, null, null, null, dims, B_NEG);
                        }
                    }
                    case MUL -> ops.broadcast(what, g, dc, full, i == 0 ? b : a, i == 0 ? bStrides : aStrides, null,
                            null, dims, B_MUL);
                    default -> {
                        if (i == 0) {
                            ops.broadcast(what, g, dc, full, b, bStrides, null, null, dims, B_DIV);
                        } else {
                            ops.broadcast(what, g, dc, full, a, aStrides, b, bStrides, dims, B_DIV_GRAD_B);
                        }
                    }
                }
                grads[i] = reduceTo(ops, what, g, self.shape().toArray(), i == 0 ? aStrides : bStrides);
            }
            return grads;
        }

        /** g summed over the dims the operand (read at {@code readStrides}) was broadcast along. */
        private Tensor reduceTo(StridedOps ops, String what, Tensor g, int[] selfShape, int[] readStrides) {
            int[] full = contiguous();
            int kept = 0;
            for (int d = 0; d < dims.length; d++) {
                kept += readStrides[d] != 0 || dims[d] == 1 ? 1 : 0;
            }
            if (kept == dims.length) {
                return g.viewAs(selfShape);
            }
            int[] keptDims = new int[kept];
            int[] keptStrides = new int[kept];
            int[] redDims = new int[dims.length - kept];
            int[] redStrides = new int[dims.length - kept];
            int ki = 0;
            int ri = 0;
            for (int d = 0; d < dims.length; d++) {
                if (readStrides[d] != 0 || dims[d] == 1) {
                    keptDims[ki] = dims[d];
                    keptStrides[ki++] = full[d];
                } else {
                    redDims[ri] = dims[d];
                    redStrides[ri++] = full[d];
                }
            }
            Tensor out = ops.empty(g.device(), selfShape);
            ops.sum(what, out, g, keptDims, keptStrides, redDims, redStrides, 1.0);
            ops.release(g);
            return out;
        }
    }

    private static void binary(String what, Tensor out, Tensor a, Tensor b, int rows, int cols, boolean bIsRow,
            int code) {
        NativeCalls.check(what, AttnkitNative.attnkit_binary(address(out, "out"), address(a, "a"), address(b, "b"),
                rows, cols, bIsRow ? 1 : rows, code));
    }
}
