package org.attnkit.backend;

/**
 * An operator was asked to run on a backend it does not have (a forced backend, or tensors on a
 * device without an implementation). Callers such as {@code attnkit check} tell this apart from an
 * operator failing by its type.
 */
public final class BackendUnavailableException extends UnsupportedOperationException {
    private static final long serialVersionUID = 1L;
    private final String op;
    private final Backend backend;

    public BackendUnavailableException(String op, Backend backend, String message) {
        super(message);
        this.op = op;
        this.backend = backend;
    }

    /** The operator's name. */
    public String op() {
        return op;
    }

    /** The backend it lacks. */
    public Backend backend() {
        return backend;
    }
}
