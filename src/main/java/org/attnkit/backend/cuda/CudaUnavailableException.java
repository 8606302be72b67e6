package org.attnkit.backend.cuda;

/** CUDA was asked for but cannot run here; the message says why (see {@link Cuda#status()}). */
public class CudaUnavailableException extends CudaException {
    private static final long serialVersionUID = 1L;

    public CudaUnavailableException(String message) {
        super(message);
    }
}
