package org.attnkit.ops.dynamicconv;

import org.attnkit.autograd.Autograd;
import org.attnkit.backend.Backend;
import org.attnkit.backend.Kernels;
import org.attnkit.random.DropConnect;
import org.attnkit.tensor.Tensor;
import org.attnkit.util.Check;

/**
 * Dynamic convolution (Wu et al., ICLR 2019), SPEC sections 0 and 2: a lightweight convolution whose
 * kernels are generated per time step by a Linear of the query (x itself by default). Generation,
 * softmax, DropConnect and convolution are one op with one forward and one backward; the kernel
 * logits and normalized weights are never outputs.
 *
 * <p>Shapes: {@code x[B,T,C]}, {@code query[B,T,Cq]} or null (then q = x and Cq = C),
 * {@code weight[H*K,Cq]} (PyTorch Linear layout, out x in, row {@code h*K+k}), {@code bias[H*K]} or
 * null, {@code heads = H}; {@code K = weight.dim(0) / H}. Channel {@code c} belongs to head
 * {@code h = c / (C/H)}. Output {@code y[B,T,C]}.
 * <pre>
 *   G[b,t,h,k]  = sum_c weight[h*K+k, c] q[b,t,c] + bias[h*K+k]
 *   wn[b,t,h,:] = softmax_k(G[b,t,h,:]) over all K taps (also those outside [0,T)) when weightSoftmax;
 *                 with renormPadding the softmax covers only the taps with t+k-P in [0,T) and the
 *                 others get weight 0 (tap P is always in range, so the denominator is never empty);
 *                 without weightSoftmax wn = G (renormPadding then changes nothing: those taps read 0)
 *   wt[b,t,h,k] = wn[b,t,h,k] * m / (1-p)   DropConnect, mask index ((b*T+t)*H+h)*K+k for POSITION,
 *                                           h*K+k for HEAD_KERNEL (one H x K mask shared by all b,t)
 *   y[b,t,c]    = sum_k wt[b,t,h,k] x[b, t+k-P, c]    (x = 0 outside [0,T))
 * </pre>
 *
 * <p>Backward (SPEC 2.2) saves x, query, weight and bias and recomputes G, the softmax and the mask:
 * {@code dx_conv[b,s,c] = sum_k wt[b,s-k+P,h,k] dy[b,s-k+P,c]};
 * {@code dwt[b,t,h,k] = sum_{c in h} dy[b,t,c] x[b,t+k-P,c]}; through the mask and the softmax to
 * {@code dG}; then {@code dweight = sum_{b,t} dG (x) q}, {@code dbias = sum_{b,t} dG},
 * {@code dq = dG . weight}, added to dx when the query is x. Only the requested gradients are computed.
 */
public final class DynamicConv {
    static final String OP = "dynamicconv";
    static final Kernels<DynamicConvKernels> KERNELS = Kernels.of(OP, (DynamicConvKernels) new DynamicConvRef())
            .with(Backend.SIMD, new DynamicConvSimdKernels())
            .with(Backend.CUDA, new DynamicConvCuda());

    private DynamicConv() {
    }

    /**
     * Padding, softmax, renormalization and DropConnect of one call.
     *
     * @param paddingLeft P in [0, K-1]
     * @param weightSoftmax normalize each generated kernel with a softmax over K
     * @param renormPadding take the softmax over the in-range taps only (off by default)
     * @param dropConnect DropConnect on the normalized weights; {@link DropConnect#NONE} for none
     */
    public record Options(int paddingLeft, boolean weightSoftmax, boolean renormPadding, DropConnect dropConnect) {
        /** P = K/2, softmax over all K taps, no DropConnect. */
        public static Options centered(int kernelSize) {
            return new Options(kernelSize / 2, true, false, DropConnect.NONE);
        }

        /** P = K-1, softmax over all K taps, no DropConnect. */
        public static Options causal(int kernelSize) {
            return new Options(kernelSize - 1, true, false, DropConnect.NONE);
        }

        /** Any left padding P, softmax over all K taps, no DropConnect. */
        public static Options padded(int paddingLeft) {
            return new Options(paddingLeft, true, false, DropConnect.NONE);
        }

        /** The same options with another weight softmax setting. */
        public Options withWeightSoftmax(boolean softmax) {
            return new Options(paddingLeft, softmax, renormPadding, dropConnect);
        }

        /** The same options with another renormPadding setting. */
        public Options withRenormPadding(boolean renorm) {
            return new Options(paddingLeft, weightSoftmax, renorm, dropConnect);
        }

        /** The same options with another DropConnect. */
        public Options withDropConnect(DropConnect d) {
            return new Options(paddingLeft, weightSoftmax, renormPadding, d);
        }
    }

    /**
     * y = dynamicConv(x, query, weight, bias) as described in the class comment.
     *
     * @param x input [B,T,C]
     * @param query kernel-generating input [B,T,Cq], or null to generate the kernels from x
     * @param weight generating Linear [H*K, Cq]
     * @param bias generating Linear's bias [H*K], or null
     * @param heads H, which must divide C and weight's row count
     * @param options padding, softmax, renormalization and DropConnect
     * @return y [B,T,C]
     */
    public static Tensor apply(Tensor x, Tensor query, Tensor weight, Tensor bias, int heads, Options options) {
        Check.rank(OP, "x", x, 3, "[B,T,C]");
        Check.rank(OP, "weight", weight, 2, "[H*K,Cq]");
        if (query != null) {
            Check.rank(OP, "query", query, 3, "[B,T,Cq]");
        }
        if (options == null) {
            throw new IllegalArgumentException(OP + ": options must not be null (use Options.centered(K) or "
                    + "Options.causal(K))");
        }
        if (options.dropConnect() == null) {
            throw new IllegalArgumentException(OP + ": options.dropConnect must not be null (use DropConnect.NONE)");
        }
        if (heads < 1) {
            throw new IllegalArgumentException(OP + ": heads must be >= 1, got " + heads);
        }
        int rows = weight.dim(0);
        if (rows % heads != 0) {
            throw new IllegalArgumentException(OP + ": weight rows (dimension 0, H*K) = " + rows
                    + " must be a multiple of heads H = " + heads);
        }
        int kernelSize = rows / heads;
        if (kernelSize < 1) {
            throw new IllegalArgumentException(OP + ": kernel size K = weight rows / heads must be >= 1, got K = "
                    + kernelSize + " (weight shape " + weight.shape() + ", heads " + heads + ")");
        }
        int p = options.paddingLeft();
        if (p < 0 || p > kernelSize - 1) {
            throw new IllegalArgumentException(OP + ": paddingLeft P must be in [0, K-1] = [0, " + (kernelSize - 1)
                    + "] for kernel size K = " + kernelSize + ", got P = " + p);
        }
        int channels = x.dim(2);
        if (channels % heads != 0) {
            throw new IllegalArgumentException(OP + ": channels C = " + channels + " (x dimension 2) must be a "
                    + "multiple of heads H = " + heads);
        }
        if (query != null) {
            Check.dim(OP, "query", query, 0, x.dim(0), "batch B of x");
            Check.dim(OP, "query", query, 1, x.dim(1), "time T of x");
        }
        int queryChannels = query == null ? channels : query.dim(2);
        Check.dim(OP, "weight", weight, 1, queryChannels,
                query == null ? "C of x, which generates the kernels" : "Cq of query");
        if (bias != null) {
            Check.shape(OP, "bias", bias, "[H*K]", rows);
        }
        Check.sameDeviceAndType(OP, "x", x, "query", query, "weight", weight, "bias", bias);

        DynamicConvKernels k = KERNELS.select(x, query, weight, bias);
        Tensor y = k.forward(x, query, weight, bias, heads, options);
        return Autograd.record(OP, y, (dy, needs) -> k.backward(dy, x, query, weight, bias, heads, options, needs),
                x, query, weight, bias);
    }
}
