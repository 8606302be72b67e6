package org.attnkit.backend.cuda;

/** A device allocation failed for lack of memory (the JVM and the device stay usable). */
public class CudaOutOfMemoryException extends CudaException {
    private static final long serialVersionUID = 1L;

    public CudaOutOfMemoryException(String message) {
        super(message);
    }
}
