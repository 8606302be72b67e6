package org.attnkit.backend;

import java.util.Collections;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.attnkit.tensor.DType;
import org.attnkit.tensor.Device;
import org.attnkit.tensor.Tensor;

/**
 * The implementations of one operator, one per backend, and the rule that picks one for a call.
 * Each operator package declares {@code static final Kernels<XKernels> KERNELS =
 * Kernels.of("x", new XRef())}, and later backends add themselves with {@link #with}.
 *
 * <p>Selection: tensors on a CUDA device use CUDA; on the CPU a forced backend (see
 * {@link Backends#force}) must exist or the call fails; otherwise the preferred CPU backend is used
 * where it exists for the dtype (SIMD and CUDA are float32 only), else the reference.
 *
 * @param <K> the operator's kernel interface
 */
public final class Kernels<K> {
    /** Every operator name built in this JVM and the backends it has (a read-only view: {@link #registered}). */
    private static final Map<String, Set<Backend>> REGISTERED = new ConcurrentHashMap<>();

    private final String op;
    private final Map<Backend, K> impls;

    private Kernels(String op, Map<Backend, K> impls) {
        this.op = op;
        this.impls = impls;
        REGISTERED.merge(op, EnumSet.copyOf(impls.keySet()), (a, b) -> {
            Set<Backend> u = EnumSet.copyOf(a);
            u.addAll(b);
            return u;
        });
    }

    /**
     * The backends registered for operator {@code op} (the name of its {@code Kernels}, which is also the
     * name of its graph nodes), or an empty set when no operator of that name has been initialized in this
     * JVM. A query only: it lets a test check, without a GPU, that every operator of a graph has a CUDA
     * backend (a device call would otherwise be the first to find out).
     */
    public static Set<Backend> registered(String op) {
        Set<Backend> s = REGISTERED.get(op);
        return s == null ? Set.of() : Collections.unmodifiableSet(EnumSet.copyOf(s));
    }

    /** An operator with only its reference implementation. */
    public static <K> Kernels<K> of(String op, K reference) {
        Map<Backend, K> m = new EnumMap<>(Backend.class);
        m.put(Backend.REF, reference);
        return new Kernels<>(op, m);
    }

    /** A copy that also has {@code impl} for {@code backend}. */
    public Kernels<K> with(Backend backend, K impl) {
        Map<Backend, K> m = new EnumMap<>(Backend.class);
        m.putAll(impls);
        m.put(backend, impl);
        return new Kernels<>(op, m);
    }

    /** The backends this operator has. */
    public Set<Backend> available() {
        return impls.keySet();
    }

    /** The operator's name. */
    public String op() {
        return op;
    }

    /** Picks the implementation for tensors on {@code device} with element type {@code dtype}. */
    public K select(Device device, DType dtype) {
        return impls.get(choose(device, dtype));
    }

    /** Picks the implementation for the given inputs (all on one device; nulls are skipped). */
    public K select(Tensor... inputs) {
        Tensor first = null;
        for (Tensor t : inputs) {
            if (t != null) {
                first = t;
                break;
            }
        }
        if (first == null) {
            throw new IllegalArgumentException(op + ": no input tensor given");
        }
        return select(first.device(), first.dtype());
    }

    /** The backend that {@link #select} would use. */
    public Backend choose(Device device, DType dtype) {
        if (!device.isCpu()) {
            if (!impls.containsKey(Backend.CUDA)) {
                throw new BackendUnavailableException(op, Backend.CUDA,
                        op + " has no cuda implementation (tensors are on " + device + ")");
            }
            return Backend.CUDA;
        }
        Backend forced = Backends.forced();
        if (forced != null) {
            if (forced == Backend.CUDA) {
                throw new IllegalArgumentException(op + ": backend cuda was forced but the tensors are on the cpu");
            }
            if (!impls.containsKey(forced)) {
                throw new BackendUnavailableException(op, forced, op + " has no " + forced.id() + " implementation");
            }
            if (forced != Backend.REF && dtype != DType.F32) {
                throw new UnsupportedOperationException(op + ": backend " + forced.id() + " supports F32 only, got "
                        + dtype);
            }
            return forced;
        }
        Backend preferred = Backends.preferredCpu();
        if (preferred != Backend.REF && dtype == DType.F32 && impls.containsKey(preferred)) {
            return preferred;
        }
        return Backend.REF;
    }
}
