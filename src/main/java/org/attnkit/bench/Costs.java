package org.attnkit.bench;

/**
 * FLOPs and minimum memory traffic of every benchmarked call: the one place where the cost model
 * lives. The figures follow SPEC's cost tables (sections 1.6, 2.4, 3.5 and the summary table of
 * section 6) with s = 4 bytes (float32), N = B*T tokens and L = H*K. An FMA counts as 2 FLOPs.
 *
 * <p>"Minimum bytes" is what a fully fused kernel must move between memory and the cores: each input
 * read once and each output written once, with no intermediate (softmax weights, logits, masks)
 * going to memory. Parameters of size O(H*K) or O(C) are negligible and left out, as SPEC does;
 * parameters of size O(C^2) (GEMM operands, Linear weights) are counted.
 *
 * <p>A forward+backward call is timed as one forward then one backward, so its cost is the sum of
 * the forward and backward rows.
 */
public final class Costs {
    /** Bytes per element: float32. */
    public static final double S = 4;

    private Costs() {
    }

    /** FLOPs and minimum bytes of one call. */
    public record Cost(double flops, double bytes) {
        Cost plus(Cost o) {
            return new Cost(flops + o.flops, bytes + o.bytes);
        }
    }

    /** The cost of one {@code pass} of {@code op} at {@code shape}. */
    public static Cost of(BenchOp op, BenchShape shape, Pass pass) {
        Cost fwd = forward(op, shape);
        return pass == Pass.FWD ? fwd : fwd.plus(backward(op, shape));
    }

    /** The forward's cost. */
    public static Cost forward(BenchOp op, BenchShape sh) {
        double n = sh.tokens();
        double c = sh.C();
        double k = sh.K();
        double l = (double) sh.H() * sh.K();
        return switch (op) {
            // SPEC 1.6: 2NCK FLOPs; read x, write y = 2NC*s (the H x K weights are negligible).
            case LIGHTCONV -> new Cost(2 * n * c * k, 2 * n * c * S);
            // SPEC 2.4 / 6: generator GEMM 2N*d*L plus the conv 2NCK (d = C; softmax ~5NL is left out);
            // fused: read x once (shared by the generator and the conv), write y = 2NC*s.
            case DYNAMICCONV -> new Cost(2 * n * c * l + 2 * n * c * k, 2 * n * c * S);
            // SPEC 3.5: scores and AV ~ 4*B*T^2*d (no projections: the op takes q, k, v);
            // read q, k, v, write y = 4NC*s (a flash-style kernel keeps the T x T scores on chip).
            case ATTENTION -> new Cost(4.0 * sh.B() * sh.T() * (double) sh.T() * c, 4 * n * c * S);
            // SPEC 3.5 / 6 "MAE extras": the gate's mean over T (NC adds) and its MLP
            // 2B(d*G + G*E), with G = MAE_GATE_HIDDEN and E = H drop-one experts, then alpha * o (NC);
            // bytes: read x for the mean, read o, write y = 3NC*s.
            case MAE -> new Cost(n * c + 2.0 * sh.B() * (c * BenchOp.MAE_GATE_HIDDEN
                    + (double) BenchOp.MAE_GATE_HIDDEN * sh.H()) + n * c, 3 * n * c * S);
            // GEMM M x K x N = (B*T) x C x C: 2MKN FLOPs; read A (MK) and B (KN), write C (MN).
            case GEMM -> new Cost(2 * n * c * c, (n * c + c * c + n * c) * S);
            // Linear C -> C with bias: 2N*C*C + N*C; read x and W, write y (bias negligible).
            case LINEAR -> new Cost(2 * n * c * c + n * c, (n * c + c * c + n * c) * S);
            // LayerNorm over C, counted per element: mean 1, variance 2, normalize 2, affine 2 = 7NC;
            // read x, write y = 2NC*s (statistics stay in registers).
            case LAYERNORM -> new Cost(7 * n * c, 2 * n * c * S);
            // Softmax over C, per element: max 1, subtract and exp 2, sum 1, scale 1 = 5NC; 2NC*s.
            case SOFTMAX -> new Cost(5 * n * c, 2 * n * c * S);
            // SPEC 6: GLU [B,T,2C] -> [B,T,C]: N*2C FLOPs; read 2NC, write NC = 3NC*s.
            case GLU -> new Cost(n * 2 * c, 3 * n * c * S);
        };
    }

    /** The backward's cost (given dy, computing every input gradient). */
    public static Cost backward(BenchOp op, BenchShape sh) {
        double n = sh.tokens();
        double c = sh.C();
        double k = sh.K();
        double l = (double) sh.H() * sh.K();
        return switch (op) {
            // SPEC 1.6: dx and dW = 4NCK FLOPs; read x and dy, write dx = 3NC*s (+ tiny partials).
            case LIGHTCONV -> new Cost(4 * n * c * k, 3 * n * c * S);
            // SPEC 2.4 / 6: conv backward 4NCK plus the generator's two backward GEMMs 4N*d*L;
            // bytes (3C + 2L)N*s: read x and dy, write dx, and dG (N x L) written and read back once.
            case DYNAMICCONV -> new Cost(4 * n * c * k + 4 * n * c * l, (3 * c + 2 * l) * n * S);
            // Attention backward: dV = P^T dY, dP = dY V^T, dQ = dS K, dK = dS^T Q, each 2*B*T^2*d
            // = 8*B*T^2*d (recomputing the scores, as a flash-style kernel does, is not counted);
            // read q, k, v, dy, write dq, dk, dv = 7NC*s.
            case ATTENTION -> new Cost(8.0 * sh.B() * sh.T() * (double) sh.T() * c, 7 * n * c * S);
            // SPEC 6 "MAE extras" backward: do = alpha*dy (NC), dalpha = sum dy*o (2NC), the gate's
            // dx = dxbar / T broadcast (NC) and the MLP backward 4B(d*G + G*E);
            // bytes: read dy and o, write do and dx = 4NC*s.
            case MAE -> new Cost(4 * n * c + 4.0 * sh.B() * (c * BenchOp.MAE_GATE_HIDDEN
                    + (double) BenchOp.MAE_GATE_HIDDEN * sh.H()), 4 * n * c * S);
            // dA = dC B^T and dB = A^T dC: 4MKN; read A, B, dC, write dA, dB.
            case GEMM -> new Cost(4 * n * c * c, (2 * n * c + 2 * c * c + n * c) * S);
            // dx = dy W, dW = dy^T x (4N*C*C), db = sum dy (NC); read x, W, dy, write dx, dW.
            case LINEAR -> new Cost(4 * n * c * c + n * c, (2 * n * c + 2 * c * c + n * c) * S);
            // Per element: recompute x-hat 2, g = gamma*dy 1, two row means 3, dx 4, dgamma 2, dbeta 1
            // = 13NC; read x and dy, write dx = 3NC*s.
            case LAYERNORM -> new Cost(13 * n * c, 3 * n * c * S);
            // dx = y (dy - sum(dy*y)): per element 2 for the dot, 2 for the update = 4NC;
            // read y and dy, write dx = 3NC*s.
            case SOFTMAX -> new Cost(4 * n * c, 3 * n * c * S);
            // SPEC 6: ~4NC FLOPs. Bytes: read x (2NC) and dy (NC), write dx (2NC) = 5NC*s. SPEC's
            // table says 4NC*s, which no kernel can reach (dx alone is 2NC); we use the real minimum.
            case GLU -> new Cost(4 * n * c, 5 * n * c * S);
        };
    }
}
