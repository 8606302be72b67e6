package org.attnkit.tensor;

import java.util.Arrays;

/** An immutable list of dimension sizes (row-major: the last dimension is contiguous). */
public final class Shape {
    private final int[] dims;

    private Shape(int[] dims) {
        this.dims = dims;
    }

    /** A shape with the given sizes; every size must be >= 0. */
    public static Shape of(int... dims) {
        int[] copy = dims.clone();
        for (int i = 0; i < copy.length; i++) {
            if (copy[i] < 0) {
                throw new IllegalArgumentException("shape dimension " + i + " must be >= 0, got " + copy[i]
                        + " in " + Arrays.toString(copy));
            }
        }
        long n = 1;
        for (int d : copy) {
            n *= d;
            if (n > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("shape " + Arrays.toString(copy)
                        + " has more than Integer.MAX_VALUE elements");
            }
        }
        return new Shape(copy);
    }

    public int rank() {
        return dims.length;
    }

    /** Size of dimension {@code i}; negative {@code i} counts from the end. */
    public int dim(int i) {
        return dims[axis(i)];
    }

    /** Normalizes a possibly negative axis, with an error naming the rank. */
    public int axis(int i) {
        int a = i < 0 ? i + dims.length : i;
        if (a < 0 || a >= dims.length) {
            throw new IllegalArgumentException("dim " + i + " is out of range for rank " + dims.length
                    + " shape " + this);
        }
        return a;
    }

    public int numel() {
        return numel(0, dims.length);
    }

    /**
     * The product of dims {@code [from, to)}: 1 for an empty range. Around an axis a, {@code numel(0, a)}
     * and {@code numel(a + 1, rank())} are the outer and inner sizes of the [outer, n, inner] view.
     */
    public int numel(int from, int to) {
        int n = 1;
        for (int d = from; d < to; d++) {
            n *= dims[d];
        }
        return n;
    }

    /** A copy of the sizes. */
    public int[] toArray() {
        return dims.clone();
    }

    /** Row-major strides in elements. */
    public int[] strides() {
        int[] s = new int[dims.length];
        int acc = 1;
        for (int i = dims.length - 1; i >= 0; i--) {
            s[i] = acc;
            acc *= dims[i];
        }
        return s;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Shape s && Arrays.equals(s.dims, dims);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(dims);
    }

    @Override
    public String toString() {
        return Arrays.toString(dims);
    }
}
