package org.attnkit.ops.lightconv;

import org.attnkit.autograd.Autograd;
import org.attnkit.backend.Backend;
import org.attnkit.backend.Kernels;
import org.attnkit.random.DropConnect;
import org.attnkit.tensor.Tensor;
import org.attnkit.util.Check;

/**
 * Lightweight convolution (Wu et al., ICLR 2019), SPEC sections 0 and 1: a depthwise convolution
 * over time whose H kernels of length K are each shared by the {@code R = C/H} consecutive channels
 * of a head, with the softmax over K and DropConnect fused into the op.
 *
 * <p>Shapes: {@code x[B,T,C]} (BTC, channels innermost), {@code weight[H,K]}, {@code bias[C]} or
 * null; output {@code y[B,T,C]}. Channel {@code c} belongs to head {@code h = c / (C/H)}.
 * <pre>
 *   wn[h,k]      = softmax_k(weight[h,:])[k]   when weightSoftmax, else weight[h,k]
 *   wt[b,t,h,k]  = wn[h,k] * m / (1-p)         DropConnect on the normalized weights, no renormalization;
 *                                              m = Philox keep bit of index h*K+k (HEAD_KERNEL, shared
 *                                              by all b,t) or ((b*T+t)*H+h)*K+k (POSITION)
 *   y[b,t,c]     = sum_k wt[b,t,h,k] * x[b, t+k-P, c]  + bias[c]   (x = 0 outside [0,T))
 * </pre>
 * Any {@code K >= 1} and any left padding {@code 0 <= P <= K-1} are supported; centered is
 * {@code P = K/2} (odd K), causal is {@code P = K-1}.
 *
 * <p>Backward (SPEC 1.2) saves x and weight only: the softmax is recomputed and the DropConnect mask
 * regenerated from its seed. {@code dx} is the convolution of dy with the reversed filter,
 * {@code dW~[h,k] = sum dy[b,t,c] x[b,t+k-P,c]} over b, t and the head's channels, then through the
 * mask and the softmax; {@code dbias[c] = sum_{b,t} dy[b,t,c]}. Only the requested gradients are
 * computed.
 */
public final class LightConv {
    static final String OP = "lightconv";
    static final Kernels<LightConvKernels> KERNELS =
            Kernels.of(OP, (LightConvKernels) new LightConvRef()).with(Backend.SIMD, new LightConvSimdKernels())
                    .with(Backend.CUDA, new LightConvCuda());

    private LightConv() {
    }

    /**
     * Padding, weight softmax and DropConnect of one call.
     *
     * @param paddingLeft P, the number of zero steps before t = 0 that tap 0 can reach; in [0, K-1]
     * @param weightSoftmax normalize each head's kernel with a softmax over K
     * @param dropConnect DropConnect on the normalized weights; {@link DropConnect#NONE} for none
     */
    public record Options(int paddingLeft, boolean weightSoftmax, DropConnect dropConnect) {
        /** P = K/2 (the encoder's padding for odd K), softmax on, no DropConnect. */
        public static Options centered(int kernelSize) {
            return new Options(kernelSize / 2, true, DropConnect.NONE);
        }

        /** P = K-1 (the decoder's padding: y[t] sees x[t-K+1..t]), softmax on, no DropConnect. */
        public static Options causal(int kernelSize) {
            return new Options(kernelSize - 1, true, DropConnect.NONE);
        }

        /** Any left padding P, softmax on, no DropConnect. */
        public static Options padded(int paddingLeft) {
            return new Options(paddingLeft, true, DropConnect.NONE);
        }

        /** The same options with another weight softmax setting. */
        public Options withWeightSoftmax(boolean softmax) {
            return new Options(paddingLeft, softmax, dropConnect);
        }

        /** The same options with another DropConnect. */
        public Options withDropConnect(DropConnect d) {
            return new Options(paddingLeft, weightSoftmax, d);
        }
    }

    /**
     * y = lightConv(x, weight, bias) as described in the class comment.
     *
     * @param x input [B,T,C]
     * @param weight kernels [H,K]
     * @param bias per-channel output bias [C], or null for none
     * @param options padding, softmax and DropConnect
     * @return y [B,T,C]
     */
    public static Tensor apply(Tensor x, Tensor weight, Tensor bias, Options options) {
        Check.rank(OP, "x", x, 3, "[B,T,C]");
        Check.rank(OP, "weight", weight, 2, "[H,K]");
        if (options == null) {
            throw new IllegalArgumentException(OP + ": options must not be null (use Options.centered(K) or "
                    + "Options.causal(K))");
        }
        if (options.dropConnect() == null) {
            throw new IllegalArgumentException(OP + ": options.dropConnect must not be null (use DropConnect.NONE)");
        }
        int channels = x.dim(2);
        int heads = weight.dim(0);
        int kernelSize = weight.dim(1);
        if (heads < 1) {
            throw new IllegalArgumentException(OP + ": weight [H,K] must have H >= 1 heads, got shape " + weight.shape());
        }
        if (kernelSize < 1) {
            throw new IllegalArgumentException(OP + ": kernel size K (weight dimension 1) must be >= 1, got K = "
                    + kernelSize + " in weight shape " + weight.shape());
        }
        int p = options.paddingLeft();
        if (p < 0 || p > kernelSize - 1) {
            throw new IllegalArgumentException(OP + ": paddingLeft P must be in [0, K-1] = [0, " + (kernelSize - 1)
                    + "] for kernel size K = " + kernelSize + ", got P = " + p);
        }
        if (channels % heads != 0) {
            throw new IllegalArgumentException(OP + ": channels C = " + channels + " (x dimension 2) must be a "
                    + "multiple of heads H = " + heads + " (weight dimension 0)");
        }
        if (bias != null) {
            Check.shape(OP, "bias", bias, "[C]", channels);
        }
        Check.sameDeviceAndType(OP, "x", x, "weight", weight, "bias", bias);

        LightConvKernels k = KERNELS.select(x, weight, bias);
        Tensor y = k.forward(x, weight, bias, options);
        boolean hasBias = bias != null;
        return Autograd.record(OP, y, (dy, needs) -> k.backward(dy, x, weight, hasBias, options, needs),
                x, weight, bias);
    }
}
