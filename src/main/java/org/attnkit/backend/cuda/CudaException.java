package org.attnkit.backend.cuda;

/** A CUDA failure reported by the native library or the driver, with its message. Never a crash. */
public class CudaException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public CudaException(String message) {
        super(message);
    }

    public CudaException(String message, Throwable cause) {
        super(message, cause);
    }
}
