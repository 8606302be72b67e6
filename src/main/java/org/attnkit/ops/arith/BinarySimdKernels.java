package org.attnkit.ops.arith;

import org.attnkit.ops.reduce.ReduceSimd;
import org.attnkit.tensor.Tensor;

/**
 * The SIMD backend of {@link Add}, {@link Sub}, {@link Mul} and {@link Div} (float32). Forward is one
 * broadcasting pass of {@link BinarySimd}; since float32 +, -, *, / round the exact result once, it
 * gives the same bits as the double reference rounded to float. Backward forms each operand's
 * elementwise gradient term over the output shape and, for a broadcast operand, sums it over the
 * broadcast dims with {@link ReduceSimd} (deterministic, float blocks added in double).
 */
final class BinarySimdKernels implements BinaryKernels {
    private final int op;

    BinarySimdKernels(int op) {
        this.op = op;
    }

    @Override
    public Tensor forward(Tensor a, Tensor b) {
        int[] outShape = Broadcast.shape("binary", a, b);
        int[] as = a.shape().toArray();
        int[] bs = b.shape().toArray();
        return Tensor.wrap(BinarySimd.apply(op, a.data(), as, b.data(), bs, outShape), outShape);
    }

    @Override
    public Tensor[] backward(Tensor a, Tensor b, Tensor dc, boolean[] needsGrad) {
        int[] outShape = dc.shape().toArray();
        int[] as = a.shape().toArray();
        int[] bs = b.shape().toArray();
        float[] g = dc.data();
        Tensor[] grads = new Tensor[2];
        if (needsGrad[0]) {
            float[] term = switch (op) {
                case BinarySimd.ADD, BinarySimd.SUB -> g;
                case BinarySimd.MUL -> BinarySimd.apply(BinarySimd.MUL, g, outShape, b.data(), bs, outShape);
                default -> BinarySimd.apply(BinarySimd.DIV, g, outShape, b.data(), bs, outShape);
            };
            grads[0] = reduceTo(term, g, outShape, as);
        }
        if (needsGrad[1]) {
            Tensor db;
            switch (op) {
                case BinarySimd.ADD -> db = reduceTo(g, g, outShape, bs);
                case BinarySimd.SUB -> {
                    db = reduceTo(g, g, outShape, bs);
                    db = Tensor.wrap(BinarySimd.negate(db.data()), bs); // reduceTo never returns dc's own array
                }
                case BinarySimd.MUL -> db = reduceTo(
                        BinarySimd.apply(BinarySimd.MUL, g, outShape, a.data(), as, outShape), g, outShape, bs);
                default -> {
                    // d(a/b)/db = -a/b^2: -(dc * a) / b / b, three float roundings where the
                    // reference has two in double.
                    float[] t = BinarySimd.apply(BinarySimd.MUL, g, outShape, a.data(), as, outShape);
                    t = BinarySimd.apply(BinarySimd.DIV, t, outShape, b.data(), bs, outShape);
                    t = BinarySimd.apply(BinarySimd.DIV, t, outShape, b.data(), bs, outShape);
                    db = reduceTo(BinarySimd.negate(t), g, outShape, bs);
                }
            }
            grads[1] = db;
        }
        return grads;
    }

    /**
     * The term (shaped outShape) summed over the dims along which an input of shape inShape was
     * broadcast, as a tensor of inShape. A term that is dc itself is copied, never returned as is.
     */
    private static Tensor reduceTo(float[] term, float[] g, int[] outShape, int[] inShape) {
        int rank = outShape.length;
        int offset = rank - inShape.length;
        boolean[] reduced = new boolean[rank];
        boolean any = false;
        for (int d = 0; d < rank; d++) {
            reduced[d] = (d < offset || inShape[d - offset] == 1) && outShape[d] != 1;
            any |= reduced[d];
        }
        if (!any) {
            return Tensor.wrap(term == g ? g.clone() : term, inShape);
        }
        return Tensor.wrap(ReduceSimd.sum(term, outShape, reduced, 1f), inShape);
    }
}
