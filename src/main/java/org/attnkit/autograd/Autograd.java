package org.attnkit.autograd;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.attnkit.tensor.DType;
import org.attnkit.tensor.Tensor;

/** Records graph nodes and runs the backward pass. */
public final class Autograd {
    private Autograd() {
    }

    /**
     * Records that {@code output} was computed from {@code inputs} by {@code op}, when grad mode is on
     * and at least one input requires grad. Inputs may contain nulls (absent optional inputs).
     * Returns {@code output}.
     */
    public static Tensor record(String op, Tensor output, BackwardFn fn, Tensor... inputs) {
        if (willRecord(inputs)) {
            output.attachGrad(new Node(op, inputs.clone(), fn));
        }
        return output;
    }

    /**
     * Whether {@link #record} would record an op on these inputs: grad mode is on and one of them requires
     * grad. For a forward that can save work for its backward only when there will be one.
     */
    public static boolean willRecord(Tensor... inputs) {
        if (!GradMode.isEnabled()) {
            return false;
        }
        for (Tensor t : inputs) {
            if (t != null && t.requiresGrad()) {
                return true;
            }
        }
        return false;
    }

    /**
     * Back-propagates {@code gradRoot} from {@code root}: computes, in reverse topological order, the
     * gradient of every tensor on a path to a leaf that requires grad, and accumulates it into the
     * leaves' {@code grad}. The walk is iterative, so deep graphs do not overflow the stack. Gradient
     * rules run with grad mode off.
     */
    public static void backward(Tensor root, Tensor gradRoot) {
        if (!root.requiresGrad()) {
            throw new IllegalStateException("backward() on a tensor that does not require grad: no parameter "
                    + "or input on its path has requiresGrad(true)");
        }
        if (!gradRoot.shape().equals(root.shape())) {
            throw new IllegalArgumentException("gradOutput shape " + gradRoot.shape()
                    + " must equal the output shape " + root.shape());
        }
        if (root.isLeaf()) {
            root.accumulateGrad(gradRoot);
            return;
        }
        List<Tensor> order = topologicalOrder(root);
        Map<Tensor, Tensor> grads = new IdentityHashMap<>();
        grads.put(root, gradRoot);
        try (GradMode.Scope ignored = GradMode.noGrad()) {
            for (int i = order.size() - 1; i >= 0; i--) {
                Tensor t = order.get(i);
                Tensor g = grads.remove(t);
                if (g == null) {
                    continue; // no path from the root carried a gradient here
                }
                Node node = t.gradFn();
                Tensor[] inputs = node.inputs();
                boolean[] needs = new boolean[inputs.length];
                for (int k = 0; k < inputs.length; k++) {
                    needs[k] = inputs[k] != null && inputs[k].requiresGrad();
                }
                Tensor[] inGrads = node.fn().backward(g, needs);
                for (int k = 0; k < inputs.length; k++) {
                    if (!needs[k]) {
                        continue;
                    }
                    Tensor gi = inGrads[k];
                    Tensor in = inputs[k];
                    if (gi == null) {
                        throw new IllegalStateException(node.op() + " backward returned no gradient for input "
                                + k + " although it was needed");
                    }
                    if (!gi.shape().equals(in.shape())) {
                        throw new IllegalStateException(node.op() + " backward returned a gradient of shape "
                                + gi.shape() + " for input " + k + " of shape " + in.shape());
                    }
                    if (in.isLeaf()) {
                        in.accumulateGrad(gi);
                    } else {
                        grads.merge(in, gi, Autograd::sumOf);
                    }
                }
            }
        }
    }

    /** Non-leaf tensors reachable from root, each after all the tensors it was computed from. */
    private static List<Tensor> topologicalOrder(Tensor root) {
        List<Tensor> order = new ArrayList<>();
        Set<Tensor> visited = Collections.newSetFromMap(new IdentityHashMap<>());
        // Each frame is (tensor, index of the next input to visit).
        Deque<Object[]> stack = new ArrayDeque<>();
        stack.push(new Object[] {root, 0});
        visited.add(root);
        while (!stack.isEmpty()) {
            Object[] frame = stack.peek();
            Tensor t = (Tensor) frame[0];
            int next = (Integer) frame[1];
            Tensor[] inputs = t.gradFn().inputs();
            if (next < inputs.length) {
                frame[1] = next + 1;
                Tensor in = inputs[next];
                if (in != null && in.requiresGrad() && !in.isLeaf() && visited.add(in)) {
                    stack.push(new Object[] {in, 0});
                }
            } else {
                stack.pop();
                order.add(t);
            }
        }
        return order;
    }

    /** Elementwise sum of two same-shape tensors on one device, outside the graph (gradient accumulation). */
    public static Tensor sumOf(Tensor a, Tensor b) {
        if (!a.shape().equals(b.shape())) {
            throw new IllegalStateException("cannot accumulate gradients of shapes " + a.shape() + " and " + b.shape());
        }
        if (!a.device().isCpu()) {
            return org.attnkit.backend.cuda.CudaTensors.sum(a, b);
        }
        if (a.dtype() == DType.F64 || b.dtype() == DType.F64) {
            double[] x = a.toDoubleArray();
            double[] y = b.toDoubleArray();
            for (int i = 0; i < x.length; i++) {
                x[i] += y[i];
            }
            return Tensor.wrap(x, a.shape().toArray());
        }
        float[] x = a.toArray();
        float[] y = b.data();
        for (int i = 0; i < x.length; i++) {
            x[i] += y[i];
        }
        return Tensor.wrap(x, a.shape().toArray());
    }
}
