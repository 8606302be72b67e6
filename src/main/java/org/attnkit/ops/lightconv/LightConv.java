package org.attnkit.ops.lightconv;

import org.attnkit.random.DropConnect;
import org.attnkit.tensor.Tensor;

/** PLACEHOLDER signature (replaced by the LightConv implementation). */
public final class LightConv {
    private LightConv() {
    }

    /** Padding, weight softmax and DropConnect of one call. */
    public record Options(int paddingLeft, boolean weightSoftmax, DropConnect dropConnect) {
        public static Options centered(int kernelSize) {
            return new Options(kernelSize / 2, true, DropConnect.NONE);
        }

        public static Options causal(int kernelSize) {
            return new Options(kernelSize - 1, true, DropConnect.NONE);
        }
    }

    /** x[B,T,C], weight[H,K], bias[C] or null. */
    public static Tensor apply(Tensor x, Tensor weight, Tensor bias, Options options) {
        throw new UnsupportedOperationException("lightconv: not implemented yet");
    }
}
