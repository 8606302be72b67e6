package org.attnkit.cli;

import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.attnkit.autograd.GradMode;
import org.attnkit.backend.Backend;
import org.attnkit.backend.Backends;
import org.attnkit.io.SafeTensorsFile;
import org.attnkit.ops.attention.Attention;
import org.attnkit.ops.dynamicconv.DynamicConv;
import org.attnkit.ops.lightconv.LightConv;
import org.attnkit.ops.linear.Linear;
import org.attnkit.ops.mae.HeadMixture;
import org.attnkit.ops.mae.MaeGate;
import org.attnkit.random.DropConnect;
import org.attnkit.tensor.Device;
import org.attnkit.tensor.Tensor;

/**
 * Runs a golden case (a safetensors file made by an independent implementation, see
 * {@code src/test/resources/golden/README.md}) on the current backend and compares every stored result.
 *
 * <p>The op named by {@code __metadata__.op} runs forward on the file's inputs; then
 * {@code y.backward(grad_y)} gives the gradients of {@code sum(y * grad_y)} with respect to x and every
 * parameter. Each stored output ({@code y}, and for mae {@code gate}) and each stored gradient
 * ({@code grad_<input>}) is compared elementwise with {@code |a - r| <= atol + rtol * |r|}. The caller
 * picks the backend with {@link Backends#force} (or {@link #run(SafeTensorsFile, Backend)}).
 */
public final class Golden {
    // SPEC section 0: float32 results against float64 references rounded to float32. Forward outputs
    // carry a few float32 roundings of accumulations over K or T terms.
    public static final double FORWARD_ATOL = 1e-5;
    public static final double FORWARD_RTOL = 1e-4;
    // Gradients sum over B*T products and go through the softmax Jacobians: one order looser.
    public static final double GRAD_ATOL = 1e-4;
    public static final double GRAD_RTOL = 1e-3;

    /** The ops a golden case may name. */
    public static final List<String> OPS = List.of("lightconv", "dynamicconv", "mae");

    private static final List<String> MAE_PARAMS = List.of("Wq", "Wk", "Wv", "Wo", "G1", "g1", "G2", "g2");

    private Golden() {
    }

    /** One stored tensor against what attnkit computed. */
    public record Comparison(String name, boolean pass, double maxAbsError, double worstRatio, int[] worstIndex,
            double actual, double expected, double atol, double rtol, String problem) {

        /** Compact text: {@code "y 3.1e-07"}, with the worst element and tolerance when it fails. */
        public String describe() {
            if (problem != null) {
                return name + " FAIL (" + problem + ")";
            }
            String err = String.format(Locale.ROOT, "%s %.1e", name, maxAbsError);
            if (pass) {
                return err;
            }
            return err + String.format(Locale.ROOT, " FAIL (at %s got %.7g want %.7g; tol %.1e + %.1e*|want|)",
                    Arrays.toString(worstIndex), actual, expected, atol, rtol);
        }
    }

    /** Every comparison of one case on one backend. */
    public record Result(String caseName, String op, List<Comparison> comparisons) {
        public Result {
            comparisons = List.copyOf(comparisons);
        }

        public boolean passed() {
            return !comparisons.isEmpty() && comparisons.stream().allMatch(Comparison::pass);
        }

        /** The failing comparisons. */
        public List<Comparison> failures() {
            return comparisons.stream().filter(c -> !c.pass()).toList();
        }

        /** {@code "y 3.1e-07  grad_x 2.2e-06  ..."}. */
        public String summary() {
            StringBuilder sb = new StringBuilder();
            for (Comparison c : comparisons) {
                if (sb.length() > 0) {
                    sb.append("  ");
                }
                sb.append(c.describe());
            }
            return sb.toString();
        }
    }

    /** The case name: the file name without {@code .safetensors}. */
    public static String caseName(SafeTensorsFile file) {
        try {
            return caseName(Path.of(file.source()));
        } catch (InvalidPathException e) {
            return file.source();
        }
    }

    /** The case name of a file: its name without {@code .safetensors}. */
    public static String caseName(Path file) {
        Path p = file.getFileName();
        String n = p == null ? file.toString() : p.toString();
        return n.endsWith(".safetensors") ? n.substring(0, n.length() - ".safetensors".length()) : n;
    }

    /**
     * Runs the case on {@code backend}: forced on this thread for the CPU backends; for CUDA the inputs
     * are copied to device 0 (the device picks the backend) and the results copied back to compare.
     */
    public static Result run(SafeTensorsFile file, Backend backend) {
        if (backend == Backend.CUDA) {
            Case c = prepare(file);
            try (GradMode.Scope ignored = GradMode.enableGrad()) {
                return c.run(file, Device.cuda(0));
            }
        }
        try (Backends.Scope ignored = Backends.force(backend)) {
            return run(file);
        }
    }

    /**
     * Runs the case on the current backend. A missing tensor or metadata key, an unknown op or metadata
     * that contradicts the tensors is an {@link IllegalArgumentException} naming the file (see
     * {@link #validate}); an exception of the op itself propagates unchanged.
     */
    public static Result run(SafeTensorsFile file) {
        Case c = prepare(file);
        // The gradients are half of the case: record the graph even inside a caller's no-grad scope.
        try (GradMode.Scope ignored = GradMode.enableGrad()) {
            return c.run(file, Device.CPU);
        }
    }

    /**
     * Checks that the file is a complete case for its op: a known op, every metadata key and tensor the
     * op needs, and metadata that agrees with the tensors' shapes. Runs nothing.
     *
     * @throws IllegalArgumentException naming the file and what is missing or wrong
     */
    public static void validate(SafeTensorsFile file) {
        prepare(file);
    }

    private static Case prepare(SafeTensorsFile file) {
        String op = file.meta("op");
        Case c = switch (op) {
            case "lightconv" -> lightconv(file);
            case "dynamicconv" -> dynamicconv(file);
            case "mae" -> mae(file);
            default -> throw new IllegalArgumentException(file.source() + ": unknown op '" + op
                    + "' in __metadata__ (known: " + String.join(", ", OPS) + ")");
        };
        // Every reference must exist before anything runs, so that a bad file is reported as such.
        file.tensor("grad_y");
        for (String out : c.forwardOutputs()) {
            file.tensor(out);
        }
        for (String leaf : c.leaves().keySet()) {
            file.tensor("grad_" + leaf);
        }
        return c;
    }

    /**
     * A prepared case: fresh leaves (copies of the file's inputs, requiring grad, so repeated runs do not
     * accumulate into each other) and the forward computation.
     */
    private record Case(String op, Map<String, Tensor> leaves, List<String> forwardOutputs, Forward forward) {
        Result run(SafeTensorsFile file, Device device) {
            Map<String, Tensor> inputs = leaves;
            if (!device.isCpu()) { // fresh leaves on the device; the CPU copies stay as they are
                inputs = new LinkedHashMap<>();
                for (Map.Entry<String, Tensor> e : leaves.entrySet()) {
                    inputs.put(e.getKey(), e.getValue().detach().to(device).requiresGrad(true));
                }
            }
            Tensor gradY = file.tensor("grad_y").to(device);
            Map<String, Tensor> outputs = forward.compute(inputs);
            List<Comparison> comparisons = new ArrayList<>();
            for (String out : forwardOutputs) {
                Tensor o = outputs.get(out);
                comparisons.add(compare(out, o == null ? null : o.to(Device.CPU), file.tensor(out),
                        FORWARD_ATOL, FORWARD_RTOL));
            }
            Tensor y = outputs.get("y");
            String noBackward = !y.shape().equals(gradY.shape())
                    ? "not computed: y has shape " + y.shape() + " but grad_y has " + gradY.shape()
                    : !y.requiresGrad() ? "not computed: the op recorded no graph for y" : null;
            if (noBackward != null) {
                for (String leaf : inputs.keySet()) {
                    comparisons.add(failed("grad_" + leaf, noBackward));
                }
                return new Result(caseName(file), op, comparisons);
            }
            y.backward(gradY);
            for (Map.Entry<String, Tensor> e : inputs.entrySet()) {
                String name = "grad_" + e.getKey();
                Tensor g = e.getValue().grad();
                comparisons.add(g == null
                        ? failed(name, "no gradient was computed for " + e.getKey())
                        : compare(name, g.to(Device.CPU), file.tensor(name), GRAD_ATOL, GRAD_RTOL));
            }
            return new Result(caseName(file), op, comparisons);
        }
    }

    @FunctionalInterface
    private interface Forward {
        /** Outputs by name; always "y", which backward starts from. */
        Map<String, Tensor> compute(Map<String, Tensor> leaves);
    }

    private static Map<String, Tensor> leaves(SafeTensorsFile file, List<String> required, List<String> optional) {
        Map<String, Tensor> m = new LinkedHashMap<>();
        for (String n : required) {
            m.put(n, file.tensor(n).copy().requiresGrad(true));
        }
        for (String n : optional) {
            if (file.has(n)) {
                m.put(n, file.tensor(n).copy().requiresGrad(true));
            }
        }
        return m;
    }

    private static Case lightconv(SafeTensorsFile file) {
        int heads = file.metaInt("heads");
        int kernelSize = file.metaInt("kernel_size");
        int paddingLeft = file.metaInt("padding_left");
        boolean softmax = file.metaBoolean("weight_softmax");
        Map<String, Tensor> leaves = leaves(file, List.of("x", "weight"), List.of("bias"));
        Tensor w = leaves.get("weight");
        if (w.rank() != 2 || w.dim(0) != heads || w.dim(1) != kernelSize) {
            throw new IllegalArgumentException(file.source() + ": weight must have shape [heads, kernel_size] = ["
                    + heads + ", " + kernelSize + "] from the metadata, got " + w.shape());
        }
        LightConv.Options options = new LightConv.Options(paddingLeft, softmax, DropConnect.NONE);
        return new Case("lightconv", leaves, List.of("y"), l -> Map.of("y",
                LightConv.apply(l.get("x"), l.get("weight"), l.get("bias"), options)));
    }

    private static Case dynamicconv(SafeTensorsFile file) {
        int heads = file.metaInt("heads");
        int kernelSize = file.metaInt("kernel_size");
        int paddingLeft = file.metaInt("padding_left");
        boolean softmax = file.metaBoolean("weight_softmax");
        Map<String, Tensor> leaves = leaves(file, List.of("x", "weight"), List.of("bias"));
        Tensor w = leaves.get("weight");
        if (w.rank() != 2 || w.dim(0) != (long) heads * kernelSize) {
            throw new IllegalArgumentException(file.source() + ": weight must have heads*kernel_size = "
                    + heads + "*" + kernelSize + " rows [H*K, C] from the metadata, got " + w.shape());
        }
        DynamicConv.Options options = new DynamicConv.Options(paddingLeft, softmax, false, DropConnect.NONE);
        return new Case("dynamicconv", leaves, List.of("y"), l -> Map.of("y",
                DynamicConv.apply(l.get("x"), null, l.get("weight"), l.get("bias"), heads, options)));
    }

    private static Case mae(SafeTensorsFile file) {
        int heads = file.metaInt("heads");
        boolean causal = file.metaBoolean("causal");
        List<String> required = new ArrayList<>();
        required.add("x");
        required.addAll(MAE_PARAMS);
        Map<String, Tensor> leaves = leaves(file, required, List.of());
        // The expert membership is a fixed 0/1 structure, not a parameter: no gradient.
        Tensor membership = file.tensor("membership").copy();
        return new Case("mae", leaves, List.of("y", "gate"), l -> {
            Tensor x = l.get("x");
            Tensor o = Attention.apply(Linear.apply(x, l.get("Wq"), null), Linear.apply(x, l.get("Wk"), null),
                    Linear.apply(x, l.get("Wv"), null), heads, causal, null);
            Tensor gate = MaeGate.apply(x, l.get("G1"), l.get("g1"), l.get("G2"), l.get("g2"), causal);
            // A constant of the case, on the device the case runs on (the leaves were moved there).
            Tensor y = Linear.apply(HeadMixture.apply(o, gate, membership.to(x.device())), l.get("Wo"), null);
            return Map.of("y", y, "gate", gate);
        });
    }

    private static Comparison failed(String name, String problem) {
        return new Comparison(name, false, Double.NaN, Double.POSITIVE_INFINITY, new int[0], Double.NaN, Double.NaN,
                0, 0, problem);
    }

    /**
     * Compares {@code actual} with {@code expected} elementwise: every element must satisfy
     * {@code |a - r| <= atol + rtol * |r|} (a NaN never does). Reports the largest absolute error and the
     * element that is worst relative to its tolerance.
     */
    public static Comparison compare(String name, Tensor actual, Tensor expected, double atol, double rtol) {
        if (actual == null) {
            return failed(name, "not computed");
        }
        if (!actual.shape().equals(expected.shape())) {
            return failed(name, "shape " + actual.shape() + ", want " + expected.shape());
        }
        double[] a = actual.toDoubleArray();
        double[] r = expected.toDoubleArray();
        double maxAbs = 0;
        boolean sawNaN = false;
        double worstRatio = 0;
        int worst = -1;
        for (int i = 0; i < a.length; i++) {
            double err = Math.abs(a[i] - r[i]);
            double tol = atol + rtol * Math.abs(r[i]);
            // A NaN error fails and ranks worst: written so that NaN falls into the failing branch.
            double ratio = err <= tol ? (err == 0 ? 0 : err / tol)
                    : Double.isNaN(err) ? Double.POSITIVE_INFINITY : err / tol;
            if (Double.isNaN(err)) {
                sawNaN = true;
            } else {
                maxAbs = Math.max(maxAbs, err);
            }
            if (worst < 0 || ratio > worstRatio) {
                worstRatio = ratio;
                worst = i;
            }
        }
        boolean pass = worstRatio <= 1;
        if (sawNaN) {
            maxAbs = Double.NaN;
        }
        int[] index = worst < 0 ? new int[0] : unravel(worst, expected.shape().toArray());
        return new Comparison(name, pass, maxAbs, worstRatio, index, worst < 0 ? Double.NaN : a[worst],
                worst < 0 ? Double.NaN : r[worst], atol, rtol, null);
    }

    private static int[] unravel(int flat, int[] shape) {
        int[] idx = new int[shape.length];
        for (int d = shape.length - 1; d >= 0; d--) {
            idx[d] = shape[d] == 0 ? 0 : flat % shape[d];
            flat = shape[d] == 0 ? 0 : flat / shape[d];
        }
        return idx;
    }
}
