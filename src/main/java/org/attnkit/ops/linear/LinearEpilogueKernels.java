package org.attnkit.ops.linear;

import org.attnkit.ops.linear.LinearEpilogue.Activation;
import org.attnkit.tensor.Tensor;

/** What every backend implements for {@link LinearEpilogue}; arguments have been validated by the entry class. */
public interface LinearEpilogueKernels {
    /**
     * {@code {y, z}}: y = activation(x W^T + b) and the pre-activation z [..., out] when the backend's backward
     * needs it and {@code saveForBackward} is set (else null; a backend may return it anyway).
     */
    Tensor[] forward(Tensor x, Tensor weight, Tensor bias, Activation activation, boolean saveForBackward);

    /**
     * {@code {dx, dweight, dbias}} from dy, given the forward's y and z (z as that backend's forward returned
     * it): dz = the activation's backward, then the Linear backward of dz. Entry i only when
     * {@code needsGrad[i]}.
     */
    Tensor[] backward(Tensor x, Tensor weight, Tensor y, Tensor z, Tensor dy, Activation activation,
            boolean[] needsGrad);
}
