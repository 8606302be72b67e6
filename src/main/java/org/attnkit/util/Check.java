package org.attnkit.util;

import java.util.Arrays;
import org.attnkit.tensor.Tensor;

/**
 * Argument checks shared by the public operators. Every failure is an IllegalArgumentException whose
 * message names the operator, the argument, the expected and the actual value, and is thrown before
 * any kernel (or native call) runs.
 */
public final class Check {
    private Check() {
    }

    /** {@code t} must not be null. */
    public static Tensor notNull(String op, String name, Tensor t) {
        if (t == null) {
            throw new IllegalArgumentException(op + ": " + name + " must not be null");
        }
        return t;
    }

    /** {@code t} must have rank {@code rank}; {@code layout} (e.g. "[B,T,C]") is quoted in the message. */
    public static void rank(String op, String name, Tensor t, int rank, String layout) {
        notNull(op, name, t);
        if (t.rank() != rank) {
            throw new IllegalArgumentException(op + ": " + name + " must have rank " + rank + " " + layout
                    + ", got rank " + t.rank() + " with shape " + t.shape());
        }
    }

    /** Dimension {@code dim} of {@code t} must be {@code expected}; {@code why} says where that comes from. */
    public static void dim(String op, String name, Tensor t, int dim, int expected, String why) {
        if (t.dim(dim) != expected) {
            throw new IllegalArgumentException(op + ": " + name + " dimension " + dim + " must be " + expected
                    + " (" + why + "), got " + t.dim(dim) + " in shape " + t.shape());
        }
    }

    /** {@code t} must have exactly the given shape. */
    public static void shape(String op, String name, Tensor t, String layout, int... expected) {
        notNull(op, name, t);
        if (!Arrays.equals(t.shape().toArray(), expected)) {
            throw new IllegalArgumentException(op + ": " + name + " must have shape " + layout + " = "
                    + Arrays.toString(expected) + ", got " + t.shape());
        }
    }

    /**
     * All non-null tensors must share the first one's device and dtype. {@code namesAndTensors}
     * alternates names and tensors: "x", x, "weight", w, ...
     */
    public static void sameDeviceAndType(String op, Object... namesAndTensors) {
        String firstName = null;
        Tensor first = null;
        for (int i = 0; i < namesAndTensors.length; i += 2) {
            String name = (String) namesAndTensors[i];
            Tensor t = (Tensor) namesAndTensors[i + 1];
            if (t == null) {
                continue;
            }
            if (first == null) {
                first = t;
                firstName = name;
                continue;
            }
            if (!t.device().equals(first.device())) {
                throw new IllegalArgumentException(op + ": " + name + " is on " + t.device() + " but " + firstName
                        + " is on " + first.device() + "; move them to one device first");
            }
            if (t.dtype() != first.dtype()) {
                throw new IllegalArgumentException(op + ": " + name + " is " + t.dtype() + " but " + firstName
                        + " is " + first.dtype() + "; convert them to one dtype first");
            }
        }
    }

    /** {@code value} must be at least {@code min}. */
    public static void atLeast(String op, String name, long value, long min) {
        if (value < min) {
            throw new IllegalArgumentException(op + ": " + name + " must be >= " + min + ", got " + value);
        }
    }

    /** {@code value} must lie in {@code [lo, hi]}. */
    public static void inRange(String op, String name, long value, long lo, long hi) {
        if (value < lo || value > hi) {
            throw new IllegalArgumentException(op + ": " + name + " must be in [" + lo + ", " + hi + "], got " + value);
        }
    }

    /** {@code divisor} must divide {@code value}. */
    public static void divides(String op, String divisorName, int divisor, String valueName, int value) {
        if (divisor <= 0 || value % divisor != 0) {
            throw new IllegalArgumentException(op + ": " + divisorName + " (" + divisor + ") must divide "
                    + valueName + " (" + value + ")");
        }
    }

    /** A drop probability must be finite and in [0, 1). */
    public static void probability(String op, String name, double p) {
        if (!(p >= 0 && p < 1)) {
            throw new IllegalArgumentException(op + ": " + name + " must be in [0, 1), got " + p);
        }
    }

    /** {@code value} must be finite (not NaN or infinite). */
    public static void finite(String op, String name, double value) {
        if (!Double.isFinite(value)) {
            throw new IllegalArgumentException(op + ": " + name + " must be finite, got " + value);
        }
    }
}
