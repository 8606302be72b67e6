package org.attnkit.ops.dynamicconv;

import org.attnkit.tensor.Tensor;

/** What every backend implements for {@link DynamicConv}. Arguments are already validated. */
public interface DynamicConvKernels {
    /** y[B,T,C] from x[B,T,C], query[B,T,Cq] or null (= x), weight[H*K,Cq] and bias[H*K] or null. */
    Tensor forward(Tensor x, Tensor query, Tensor weight, Tensor bias, int heads, DynamicConv.Options options);

    /**
     * Gradients {dx, dquery, dweight, dbias} for output gradient dy[B,T,C], recomputing the kernels
     * from the saved inputs and regenerating the DropConnect mask. Entry i is computed only when
     * {@code needsGrad[i]} is true and is null otherwise. When query is null, dx includes the
     * generator's gradient.
     */
    Tensor[] backward(Tensor dy, Tensor x, Tensor query, Tensor weight, Tensor bias, int heads,
            DynamicConv.Options options, boolean[] needsGrad);
}
