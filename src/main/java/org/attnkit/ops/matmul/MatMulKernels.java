package org.attnkit.ops.matmul;

import org.attnkit.tensor.Tensor;

/** What every backend implements for {@link MatMul}; shapes have been validated by the entry class. */
public interface MatMulKernels {
    /** c[..., M, N] = a[..., M, K] b[..., K, N], one product per batch index. */
    Tensor forward(Tensor a, Tensor b);

    /**
     * {@code {da, db}} with {@code da = dc b^T} and {@code db = a^T dc} per batch index; entry i is
     * computed only when {@code needsGrad[i]}, otherwise null.
     */
    Tensor[] backward(Tensor a, Tensor b, Tensor dc, boolean[] needsGrad);
}
