package org.attnkit.ops.dynamicconv;

import org.attnkit.random.DropConnect;
import org.attnkit.tensor.Tensor;

/** PLACEHOLDER signature (replaced by the DynamicConv implementation). */
public final class DynamicConv {
    private DynamicConv() {
    }

    /** Padding, softmax, renormalization and DropConnect of one call. */
    public record Options(int paddingLeft, boolean weightSoftmax, boolean renormPadding, DropConnect dropConnect) {
        public static Options centered(int kernelSize) {
            return new Options(kernelSize / 2, true, false, DropConnect.NONE);
        }

        public static Options causal(int kernelSize) {
            return new Options(kernelSize - 1, true, false, DropConnect.NONE);
        }
    }

    /** x[B,T,C], query[B,T,Cq] or null (= x), weight[H*K,Cq], bias[H*K] or null. */
    public static Tensor apply(Tensor x, Tensor query, Tensor weight, Tensor bias, int heads, Options options) {
        throw new UnsupportedOperationException("dynamicconv: not implemented yet");
    }
}
