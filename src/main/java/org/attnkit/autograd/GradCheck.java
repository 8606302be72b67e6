package org.attnkit.autograd;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.function.Function;
import org.attnkit.tensor.DType;
import org.attnkit.tensor.Tensor;

/**
 * Checks the gradients of any function built from attnkit operators against central finite
 * differences, in double precision.
 *
 * <p>The inputs are copied to F64; those that require grad are checked. The scalar checked is
 * {@code L = sum(f(inputs) * r)} for a seeded random {@code r}, so every output element takes part.
 * The analytic gradient comes from {@code backward}; the numeric one is
 * {@code (L(x + eps) - L(x - eps)) / (2 eps)} per input element. An element passes when
 * {@code |analytic - numeric| <= atol + rtol * |numeric|}.
 *
 * <p>The function must be deterministic (dropout and DropConnect with a fixed seed are) and must
 * compute in F64 when given F64 inputs, as the reference backend does.
 */
public final class GradCheck {
    /** Step and tolerances. The defaults suit smooth functions of O(1) values in double. */
    public record Options(double eps, double atol, double rtol, long seed) {
        public static final Options DEFAULT = new Options(1e-6, 1e-7, 1e-5, 1234L);

        public Options withTolerance(double newAtol, double newRtol) {
            return new Options(eps, newAtol, newRtol, seed);
        }
    }

    /** The outcome: the worst error per checked input and the first few failing elements. */
    public record Report(boolean passed, double maxAbsError, List<String> failures, int checkedElements) {
        @Override
        public String toString() {
            return String.format(Locale.ROOT, "%s: %d elements checked, max |analytic - numeric| = %.3e%s",
                    passed ? "passed" : "FAILED", checkedElements, maxAbsError,
                    failures.isEmpty() ? "" : "\n  " + String.join("\n  ", failures));
        }
    }

    private GradCheck() {
    }

    /** Runs the check with the default options. */
    public static Report check(Function<Tensor[], Tensor> f, Tensor... inputs) {
        return check(f, Options.DEFAULT, inputs);
    }

    /** Runs the check; inputs that require grad are checked, the others are held fixed. */
    public static Report check(Function<Tensor[], Tensor> f, Options options, Tensor... inputs) {
        Tensor[] in = new Tensor[inputs.length];
        boolean any = false;
        for (int i = 0; i < inputs.length; i++) {
            if (inputs[i] == null) {
                continue;
            }
            in[i] = inputs[i].to(DType.F64).copy().requiresGrad(inputs[i].requiresGrad());
            any |= inputs[i].requiresGrad();
        }
        if (!any) {
            throw new IllegalArgumentException("no input requires grad: mark the inputs to check with requiresGrad(true)");
        }
        Tensor y;
        try (GradMode.Scope ignored = GradMode.enableGrad()) {
            y = f.apply(in);
        }
        if (y.dtype() != DType.F64) {
            throw new IllegalStateException("the function returned " + y.dtype()
                    + " for F64 inputs; a gradient check needs it to compute in F64");
        }
        SplittableRandom rnd = new SplittableRandom(options.seed());
        double[] r = new double[y.numel()];
        for (int i = 0; i < r.length; i++) {
            r[i] = rnd.nextDouble() * 2 - 1;
        }
        Tensor weights = Tensor.wrap(r, y.shape().toArray());
        y.backward(weights);

        List<String> failures = new ArrayList<>();
        double maxErr = 0;
        int checked = 0;
        for (int i = 0; i < in.length; i++) {
            if (in[i] == null || !in[i].requiresGrad()) {
                continue;
            }
            double[] x = in[i].doubleData();
            double[] analytic = in[i].grad() == null ? new double[x.length] : in[i].grad().toDoubleArray();
            for (int j = 0; j < x.length; j++) {
                double orig = x[j];
                x[j] = orig + options.eps();
                double lp = weighted(f, in, r);
                x[j] = orig - options.eps();
                double lm = weighted(f, in, r);
                x[j] = orig;
                double numeric = (lp - lm) / (2 * options.eps());
                double err = Math.abs(analytic[j] - numeric);
                maxErr = Math.max(maxErr, err);
                checked++;
                if (!(err <= options.atol() + options.rtol() * Math.abs(numeric)) && failures.size() < 8) {
                    failures.add(String.format(Locale.ROOT, "input %d %s element %d: analytic %.9g numeric %.9g",
                            i, in[i].shape(), j, analytic[j], numeric));
                }
            }
        }
        return new Report(failures.isEmpty(), maxErr, failures, checked);
    }

    /** Like {@link #check} but throws an AssertionError with the report when it fails. */
    public static Report assertGradients(Function<Tensor[], Tensor> f, Options options, Tensor... inputs) {
        Report report = check(f, options, inputs);
        if (!report.passed()) {
            throw new AssertionError("gradient check " + report);
        }
        return report;
    }

    /** Like {@link #check} with default options but throws an AssertionError when it fails. */
    public static Report assertGradients(Function<Tensor[], Tensor> f, Tensor... inputs) {
        return assertGradients(f, Options.DEFAULT, inputs);
    }

    private static double weighted(Function<Tensor[], Tensor> f, Tensor[] in, double[] r) {
        double[] y;
        try (GradMode.Scope ignored = GradMode.noGrad()) {
            y = f.apply(in).toDoubleArray();
        }
        double s = 0;
        for (int i = 0; i < y.length; i++) {
            s += y[i] * r[i];
        }
        return s;
    }
}
