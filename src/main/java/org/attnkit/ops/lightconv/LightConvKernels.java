package org.attnkit.ops.lightconv;

import org.attnkit.tensor.Tensor;

/** What every backend implements for {@link LightConv}. Arguments are already validated. */
public interface LightConvKernels {
    /** y[B,T,C] from x[B,T,C], weight[H,K] and bias[C] (or null). */
    Tensor forward(Tensor x, Tensor weight, Tensor bias, LightConv.Options options);

    /**
     * Gradients {dx, dweight, dbias} of the forward with output gradient dy[B,T,C], from the saved x
     * and weight (the softmax is recomputed, the DropConnect mask regenerated). Entry i is computed
     * only when {@code needsGrad[i]} is true and is null otherwise; dbias needs {@code hasBias}.
     */
    Tensor[] backward(Tensor dy, Tensor x, Tensor weight, boolean hasBias, LightConv.Options options,
            boolean[] needsGrad);
}
