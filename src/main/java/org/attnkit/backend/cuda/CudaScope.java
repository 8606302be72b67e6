package org.attnkit.backend.cuda;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import org.attnkit.tensor.Tensor;
import org.attnkit.util.ScopeStack;

/**
 * Frees, on close, every device buffer allocated on this thread while the scope was open, except those
 * {@link #keep kept}: a training step in a scope releases its activations and gradients at its end
 * instead of waiting for the garbage collector. Scopes nest; a kept buffer moves to the enclosing scope.
 * <pre>
 *   try (CudaScope scope = CudaScope.open()) {
 *       Tensor y = LightConv.apply(x, w, null, opts);
 *       result = scope.keep(y);
 *   }
 * </pre>
 */
public final class CudaScope implements AutoCloseable {
    private static final ScopeStack<CudaScope> SCOPES = new ScopeStack<>();

    private final CudaScope parent;
    private final List<CudaStorage> owned = new ArrayList<>();
    private final Set<CudaStorage> kept = Collections.newSetFromMap(new IdentityHashMap<>());
    private boolean closed;

    private CudaScope() {
        this.parent = SCOPES.push(this);
    }

    /** Opens a scope on this thread. */
    public static CudaScope open() {
        return new CudaScope();
    }

    static void track(CudaStorage storage) {
        CudaScope s = SCOPES.current();
        if (s != null) {
            s.owned.add(storage);
        }
    }

    /** Exempts {@code t}'s device buffer from this scope (it goes to the enclosing scope, if any). */
    public Tensor keep(Tensor t) {
        if (t.storage() instanceof CudaStorage cs) {
            kept.add(cs);
        }
        return t;
    }

    /** Number of buffers this scope would free now. */
    public int owned() {
        return (int) owned.stream().filter(s -> !kept.contains(s) && !s.isReleased()).count();
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        SCOPES.pop(this, parent);
        for (CudaStorage s : owned) {
            if (kept.contains(s)) {
                if (parent != null) {
                    parent.owned.add(s);
                }
            } else {
                s.close();
            }
        }
        owned.clear();
    }
}
