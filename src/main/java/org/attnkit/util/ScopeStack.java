package org.attnkit.util;

/**
 * The innermost open scope of each thread, for scopes that nest ({@code CpuScope}, {@code CudaScope}): a
 * scope is pushed when it opens and popped when it closes, which makes the scope it enclosed current again.
 *
 * @param <S> the scope type
 */
public final class ScopeStack<S> {
    private final ThreadLocal<S> current = new ThreadLocal<>();

    /** This thread's innermost open scope, or null. */
    public S current() {
        return current.get();
    }

    /** Makes {@code scope} this thread's current scope and returns the one it encloses (null if none). */
    public S push(S scope) {
        S parent = current.get();
        current.set(scope);
        return parent;
    }

    /** Closing {@code scope}: {@code parent} becomes current again, if {@code scope} still is. */
    public void pop(S scope, S parent) {
        if (current.get() != scope) {
            return;
        }
        if (parent == null) {
            current.remove();
        } else {
            current.set(parent);
        }
    }
}
