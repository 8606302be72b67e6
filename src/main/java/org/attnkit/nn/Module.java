package org.attnkit.nn;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.attnkit.tensor.Device;
import org.attnkit.tensor.Tensor;

/**
 * A layer or model: named parameters (leaf F32 tensors that require grad) and named child modules,
 * in registration order. Names are dotted paths ({@code layers.0.conv.weight}), as in PyTorch's
 * {@code state_dict}, so a checkpoint written by {@link #stateDict()} loads back by name.
 *
 * <p>Randomness in the forward pass (dropout, DropConnect, sampled experts) is keyed by the module's
 * seed and the current training step, set on the whole tree with {@link #setStep(long)}, so a run that
 * resumes at step s draws exactly the masks the uninterrupted run drew.
 */
public abstract class Module {
    private final Map<String, Tensor> parameters = new LinkedHashMap<>();
    private final Map<String, Module> children = new LinkedHashMap<>();
    private boolean training = true;
    private long step;

    /** Registers a parameter (made a leaf that requires grad) under {@code name}; returns it. */
    protected final Tensor parameter(String name, Tensor value) {
        checkName(name);
        if (!value.isLeaf()) {
            value = value.detach();
        }
        value.requiresGrad(true);
        parameters.put(name, value);
        return value;
    }

    /** Registers a child module under {@code name}; returns it. */
    protected final <M extends Module> M child(String name, M module) {
        checkName(name);
        children.put(name, module);
        return module;
    }

    private void checkName(String name) {
        if (name == null || name.isEmpty() || name.contains(".")) {
            throw new IllegalArgumentException("module member name must be non-empty without dots, got '" + name + "'");
        }
        if (parameters.containsKey(name) || children.containsKey(name)) {
            throw new IllegalArgumentException("module member '" + name + "' is already registered");
        }
    }

    /** Every parameter of this module and its children, by dotted name, in registration order. */
    public final Map<String, Tensor> namedParameters() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        collect("", out);
        return Collections.unmodifiableMap(out);
    }

    private void collect(String prefix, Map<String, Tensor> out) {
        parameters.forEach((n, p) -> out.put(prefix + n, p));
        children.forEach((n, c) -> c.collect(prefix + n + ".", out));
    }

    /** The parameters in {@link #namedParameters()} order. */
    public final List<Tensor> parameters() {
        return new ArrayList<>(namedParameters().values());
    }

    /** Number of scalar parameters. */
    public final long parameterCount() {
        long n = 0;
        for (Tensor p : namedParameters().values()) {
            n += p.numel();
        }
        return n;
    }

    /** Host copies of every parameter's values, by dotted name (what a checkpoint stores). */
    public final Map<String, Tensor> stateDict() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        namedParameters().forEach((n, p) -> out.put(n, hostCopy(p)));
        return out;
    }

    /** A copy of t's values on the host, never t itself (the caller may keep it while t changes in place). */
    static Tensor hostCopy(Tensor t) {
        return t.device().isCpu() ? t.copy() : t.to(Device.CPU);
    }

    /**
     * Overwrites every parameter in place with the tensor of the same name. The names must match
     * exactly (no missing or extra entries) and so must the shapes.
     */
    public final void loadStateDict(Map<String, Tensor> state) {
        Map<String, Tensor> own = namedParameters();
        for (String name : state.keySet()) {
            if (!own.containsKey(name)) {
                throw new IllegalArgumentException("loadStateDict: unexpected parameter '" + name + "'; the model has "
                        + own.keySet());
            }
        }
        for (Map.Entry<String, Tensor> e : own.entrySet()) {
            Tensor src = state.get(e.getKey());
            if (src == null) {
                throw new IllegalArgumentException("loadStateDict: missing parameter '" + e.getKey() + "'");
            }
            Tensor dst = e.getValue();
            if (!src.shape().equals(dst.shape())) {
                throw new IllegalArgumentException("loadStateDict: parameter '" + e.getKey() + "' has shape "
                        + dst.shape() + " but the state holds " + src.shape());
            }
            float[] values = src.to(Device.CPU).toArray();
            if (dst.device().isCpu()) {
                System.arraycopy(values, 0, dst.data(), 0, dst.numel());
            } else {
                org.attnkit.backend.cuda.CudaTensors.upload(dst, values);
            }
        }
    }

    /** Clears the gradient of every parameter. */
    public final void zeroGrad() {
        for (Tensor p : namedParameters().values()) {
            p.zeroGrad();
        }
    }

    /** Training mode (dropout and DropConnect active) or evaluation mode, for the whole tree. */
    public final Module train(boolean on) {
        training = on;
        children.values().forEach(c -> c.train(on));
        return this;
    }

    public final boolean isTraining() {
        return training;
    }

    /** Sets the training step that keys this tree's random masks. */
    public final void setStep(long s) {
        step = s;
        children.values().forEach(c -> c.setStep(s));
    }

    public final long step() {
        return step;
    }

    /**
     * Moves the whole tree to {@code device} and returns this module: every parameter becomes a new leaf
     * on the device holding the same values and keeping its {@code requiresGrad} flag (its gradient is
     * dropped), and every other tensor a module holds in a field (constants such as the MAE membership
     * matrix) is copied there too, as PyTorch's {@code Module.to} moves parameters and buffers. The fields
     * that referenced the old tensors (e.g. {@code Linear.weight}) are rebound to the new ones, so
     * {@link #namedParameters()} and the fields stay the same objects. Optimizers must be built (or their
     * parameter lists taken) after the move. Tensors already on the device are kept as they are.
     *
     * @throws IllegalArgumentException for a null device
     * @throws org.attnkit.backend.cuda.CudaUnavailableException where the device cannot be used
     */
    public final Module to(Device device) {
        if (device == null) {
            throw new IllegalArgumentException("Module.to: device must not be null");
        }
        moveTree(device, new IdentityHashMap<>());
        return this;
    }

    /** moved: old tensor -> its copy on the device, shared across the tree (a tensor held twice moves once). */
    private void moveTree(Device device, Map<Tensor, Tensor> moved) {
        for (Map.Entry<String, Tensor> e : parameters.entrySet()) {
            Tensor old = e.getValue();
            e.setValue(moved.computeIfAbsent(old, t -> {
                Tensor n = t.device().equals(device) ? t : t.detach().to(device).detach();
                if (n != t) {
                    n.requiresGrad(t.requiresGrad());
                }
                return n;
            }));
        }
        for (Class<?> c = getClass(); c != null && c != Object.class; c = c.getSuperclass()) {
            for (Field f : c.getDeclaredFields()) {
                if (Modifier.isStatic(f.getModifiers()) || f.getType() != Tensor.class) {
                    continue;
                }
                Tensor old;
                try {
                    f.setAccessible(true);
                    old = (Tensor) f.get(this);
                } catch (IllegalAccessException | RuntimeException ex) {
                    throw new IllegalStateException("Module.to: cannot read field " + c.getSimpleName() + "."
                            + f.getName() + ": " + ex, ex);
                }
                if (old == null) {
                    continue;
                }
                Tensor n = moved.computeIfAbsent(old, t -> t.device().equals(device) ? t : t.detach().to(device));
                if (n != old) {
                    try {
                        f.set(this, n);
                    } catch (IllegalAccessException ex) {
                        throw new IllegalStateException("Module.to: cannot rebind field " + c.getSimpleName() + "."
                                + f.getName() + ": " + ex, ex);
                    }
                }
            }
        }
        children.values().forEach(ch -> ch.moveTree(device, moved));
    }
}
