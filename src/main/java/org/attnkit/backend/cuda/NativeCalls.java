package org.attnkit.backend.cuda;

/**
 * Turns the status of an {@link AttnkitNative} call into an exception carrying the native message:
 * invalid argument, out of memory, no device or another CUDA error. Callers validate their
 * arguments in Java first; the native checks are a second line, never the first.
 */
public final class NativeCalls {
    private NativeCalls() {
    }

    /** The native message of the last failure on this thread. */
    static String lastError() {
        return AttnkitNative.attnkit_last_error().getString();
    }

    /** Throws the exception matching {@code status} (nothing when it is OK). */
    public static void check(String op, int status) {
        if (status == AttnkitNative.OK) {
            return;
        }
        String msg = op + ": " + lastError();
        switch (status) {
            case AttnkitNative.INVALID_ARGUMENT -> throw new IllegalArgumentException(msg);
            case AttnkitNative.OUT_OF_MEMORY -> throw new CudaOutOfMemoryException(msg);
            case AttnkitNative.NO_DEVICE -> throw new CudaUnavailableException(msg);
            default -> throw new CudaException(msg + " (status " + status + ")");
        }
    }
}
