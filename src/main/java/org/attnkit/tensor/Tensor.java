package org.attnkit.tensor;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.attnkit.autograd.Autograd;
import org.attnkit.autograd.Node;
import org.attnkit.ops.shape.Concat;
import org.attnkit.ops.shape.Permute;
import org.attnkit.ops.shape.Reshape;
import org.attnkit.ops.shape.Slice;

/**
 * A dense, row-major, contiguous tensor of float32 (or float64, for gradient checks) on one device.
 *
 * <p>Tensors are immutable from the outside: operators create new tensors. {@link #reshape} returns
 * a view that shares storage; transpose, permute, slice and concat copy. Autograd state lives here:
 * {@link #requiresGrad()}, the accumulated {@link #grad()} of a leaf, and the {@link Node} that
 * produced a non-leaf.
 */
public final class Tensor {
    private final Shape shape;
    private final Storage storage;
    private boolean requiresGrad;
    private Tensor grad;
    private Node gradFn;

    private Tensor(Shape shape, Storage storage) {
        if (shape.numel() != storage.size()) {
            throw new IllegalArgumentException("shape " + shape + " holds " + shape.numel()
                    + " elements but the storage holds " + storage.size());
        }
        this.shape = shape;
        this.storage = storage;
    }

    // ---------------------------------------------------------------- creation

    /** Wraps {@code data} (not copied) as an F32 CPU tensor of the given shape. */
    public static Tensor wrap(float[] data, int... shape) {
        return new Tensor(Shape.of(shape), new HeapStorage(data));
    }

    /** Wraps {@code data} (not copied) as an F64 CPU tensor of the given shape. */
    public static Tensor wrap(double[] data, int... shape) {
        return new Tensor(Shape.of(shape), new HeapStorage(data));
    }

    /** An F32 CPU tensor holding a copy of {@code data}. */
    public static Tensor of(float[] data, int... shape) {
        Shape s = Shape.of(shape);
        if (data.length != s.numel()) {
            throw new IllegalArgumentException("data has " + data.length + " elements but shape " + s
                    + " needs " + s.numel());
        }
        return new Tensor(s, new HeapStorage(data.clone()));
    }

    /** An F64 CPU tensor holding a copy of {@code data}. */
    public static Tensor of(double[] data, int... shape) {
        Shape s = Shape.of(shape);
        if (data.length != s.numel()) {
            throw new IllegalArgumentException("data has " + data.length + " elements but shape " + s
                    + " needs " + s.numel());
        }
        return new Tensor(s, new HeapStorage(data.clone()));
    }

    /** A CPU tensor of the given dtype from double values (rounded to float for F32). */
    public static Tensor fromDoubles(double[] values, DType dtype, int... shape) {
        if (dtype == DType.F64) {
            return wrap(values, shape);
        }
        float[] f = new float[values.length];
        for (int i = 0; i < f.length; i++) {
            f[i] = (float) values[i];
        }
        return wrap(f, shape);
    }

    /**
     * A tensor over an existing storage on any device (the CUDA backend wraps its device buffers with
     * this). The storage's size must match the shape.
     */
    public static Tensor onStorage(Storage storage, int... shape) {
        if (storage == null) {
            throw new IllegalArgumentException("storage must not be null");
        }
        return new Tensor(Shape.of(shape), storage);
    }

    /** A zero-dimensional F32 tensor. */
    public static Tensor scalar(float value) {
        return wrap(new float[] {value});
    }

    public static Tensor zeros(int... shape) {
        return wrap(new float[Shape.of(shape).numel()], shape);
    }

    /** A zero-filled F32 tensor on {@code device} (on a CUDA device, filled there: no host buffer is copied). */
    public static Tensor zeros(Device device, int... shape) {
        if (device == null) {
            throw new IllegalArgumentException("device must not be null");
        }
        return device.isCpu() ? zeros(shape) : org.attnkit.backend.cuda.CudaTensors.zeros(device, shape);
    }

    public static Tensor zeros(DType dtype, int... shape) {
        int n = Shape.of(shape).numel();
        return dtype == DType.F32 ? wrap(new float[n], shape) : wrap(new double[n], shape);
    }

    public static Tensor ones(int... shape) {
        return full(1f, shape);
    }

    public static Tensor full(float value, int... shape) {
        float[] d = new float[Shape.of(shape).numel()];
        Arrays.fill(d, value);
        return wrap(d, shape);
    }

    /** Standard normal values from a seeded generator: the same seed gives the same tensor. */
    public static Tensor randn(long seed, int... shape) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] d = new float[Shape.of(shape).numel()];
        for (int i = 0; i < d.length; i++) {
            d[i] = (float) gaussian(r);
        }
        return wrap(d, shape);
    }

    /** Uniform values in [0, 1) from a seeded generator. */
    public static Tensor rand(long seed, int... shape) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] d = new float[Shape.of(shape).numel()];
        for (int i = 0; i < d.length; i++) {
            d[i] = (float) r.nextDouble();
        }
        return wrap(d, shape);
    }

    private static double gaussian(SplittableRandom r) {
        // Box-Muller; 1 - nextDouble() is in (0, 1], so the log is finite.
        double u = 1.0 - r.nextDouble();
        double v = r.nextDouble();
        return Math.sqrt(-2.0 * Math.log(u)) * Math.cos(2.0 * Math.PI * v);
    }

    // ---------------------------------------------------------------- metadata

    public Shape shape() {
        return shape;
    }

    /** Size of dimension {@code i} (negative counts from the end). */
    public int dim(int i) {
        return shape.dim(i);
    }

    public int rank() {
        return shape.rank();
    }

    public int numel() {
        return shape.numel();
    }

    public DType dtype() {
        return storage.dtype();
    }

    public Device device() {
        return storage.device();
    }

    public Storage storage() {
        return storage;
    }

    // ---------------------------------------------------------------- data access (CPU)

    /**
     * The backing float[] of an F32 CPU tensor, not a copy: kernels read it and write the outputs
     * they allocate. Callers must not modify the data of a tensor they did not create.
     */
    public float[] data() {
        HeapStorage h = heap("data()");
        if (h.floats == null) {
            throw new IllegalStateException("data() needs an F32 tensor, this one is " + dtype()
                    + "; use doubleData() or toDoubleArray()");
        }
        return h.floats;
    }

    /** The backing double[] of an F64 CPU tensor, not a copy. */
    public double[] doubleData() {
        HeapStorage h = heap("doubleData()");
        if (h.doubles == null) {
            throw new IllegalStateException("doubleData() needs an F64 tensor, this one is " + dtype());
        }
        return h.doubles;
    }

    /** A float copy of the values. */
    public float[] toArray() {
        HeapStorage h = heap("toArray()");
        if (h.floats != null) {
            return h.floats.clone();
        }
        float[] f = new float[h.doubles.length];
        for (int i = 0; i < f.length; i++) {
            f[i] = (float) h.doubles[i];
        }
        return f;
    }

    /** A double copy of the values. */
    public double[] toDoubleArray() {
        HeapStorage h = heap("toDoubleArray()");
        if (h.doubles != null) {
            return h.doubles.clone();
        }
        double[] d = new double[h.floats.length];
        for (int i = 0; i < d.length; i++) {
            d[i] = h.floats[i];
        }
        return d;
    }

    /** The single value of a one-element tensor. */
    public double item() {
        if (numel() != 1) {
            throw new IllegalStateException("item() needs a tensor with one element, shape is " + shape);
        }
        return toDoubleArray()[0];
    }

    /** The value at a multi-index. */
    public double get(int... index) {
        if (index.length != rank()) {
            throw new IllegalArgumentException("index has " + index.length + " coordinates, tensor has rank "
                    + rank());
        }
        int[] st = shape.strides();
        int off = 0;
        for (int i = 0; i < index.length; i++) {
            if (index[i] < 0 || index[i] >= shape.dim(i)) {
                throw new IndexOutOfBoundsException("index " + index[i] + " out of range for dim " + i
                        + " of size " + shape.dim(i));
            }
            off += index[i] * st[i];
        }
        HeapStorage h = heap("get()");
        return h.floats != null ? h.floats[off] : h.doubles[off];
    }

    private HeapStorage heap(String what) {
        if (!(storage instanceof HeapStorage h)) {
            throw new IllegalStateException(what + " needs a CPU tensor, this one is on " + device()
                    + "; copy it with to(Device.CPU) first");
        }
        if (h.isReleased()) {
            throw new IllegalStateException(what + ": this tensor's memory was recycled when the CpuScope that "
                    + "created it closed; keep() the tensors you use after the scope");
        }
        return h;
    }

    /** A tensor with the same values converted to {@code dtype} (this tensor itself if it matches). */
    public Tensor to(DType dtype) {
        if (dtype == dtype()) {
            return this;
        }
        return dtype == DType.F64 ? wrap(toDoubleArray(), shape.toArray()) : wrap(toArray(), shape.toArray());
    }

    /**
     * This tensor on {@code device}: itself when it is already there, otherwise a copy (not part of
     * any graph). Copies to and from CUDA devices go through the CUDA backend, which throws
     * {@code CudaUnavailableException} with the reason where CUDA cannot run; CUDA tensors are F32.
     */
    public Tensor to(Device device) {
        if (device == null) {
            throw new IllegalArgumentException("device must not be null");
        }
        if (device.equals(device())) {
            return this;
        }
        return org.attnkit.backend.cuda.CudaTensors.copy(this, device);
    }

    /** A copy with the same values on the same device, not part of any graph. */
    public Tensor copy() {
        if (!device().isCpu()) {
            return org.attnkit.backend.cuda.CudaTensors.duplicate(this);
        }
        HeapStorage h = heap("copy()");
        return h.floats != null ? wrap(h.floats.clone(), shape.toArray()) : wrap(h.doubles.clone(), shape.toArray());
    }

    /** The same storage, cut from the graph: no grad function and no gradient required. */
    public Tensor detach() {
        return new Tensor(shape, storage);
    }

    /** A tensor over the same storage with another shape of equal size (used by views). */
    public Tensor viewAs(int... newShape) {
        return new Tensor(Shape.of(newShape), storage);
    }

    // ---------------------------------------------------------------- autograd

    public boolean requiresGrad() {
        return requiresGrad;
    }

    /**
     * Marks a leaf as a parameter whose gradient accumulates in {@link #grad()}. Only leaves can be
     * changed: a tensor produced by a recorded operation requires grad because its inputs do.
     */
    public Tensor requiresGrad(boolean value) {
        if (gradFn != null) {
            throw new IllegalStateException("requiresGrad can only be set on a leaf tensor; this one was produced by "
                    + gradFn.op() + " (use detach() first)");
        }
        this.requiresGrad = value;
        return this;
    }

    /** The accumulated gradient of a leaf, or null if none has been computed. */
    public Tensor grad() {
        return grad;
    }

    /** Clears the accumulated gradient. */
    public void zeroGrad() {
        grad = null;
    }

    /** True when this tensor was not produced by a recorded operation. */
    public boolean isLeaf() {
        return gradFn == null;
    }

    /** The node that produced this tensor, or null for a leaf. */
    public Node gradFn() {
        return gradFn;
    }

    /** Called by {@link Autograd} only. */
    public void attachGrad(Node node) {
        this.gradFn = node;
        this.requiresGrad = true;
    }

    /** Called by {@link Autograd} only: adds {@code g} into the leaf gradient. */
    public void accumulateGrad(Tensor g) {
        grad = grad == null ? g.detach() : Autograd.sumOf(grad, g);
    }

    /** Back-propagates from this scalar (one-element) tensor with seed gradient 1. */
    public void backward() {
        if (numel() != 1) {
            throw new IllegalStateException("backward() without a gradient needs a one-element tensor, shape is "
                    + shape + "; pass the output gradient with backward(grad)");
        }
        Tensor one = dtype() == DType.F64 ? wrap(new double[] {1}, shape.toArray()) : full(1f, shape.toArray());
        Autograd.backward(this, one.to(device())); // the seed lives where the graph does
    }

    /** Back-propagates {@code gradOutput} (same shape as this tensor) through the graph. */
    public void backward(Tensor gradOutput) {
        Autograd.backward(this, gradOutput);
    }

    // ---------------------------------------------------------------- shape operations

    /** A view with another shape of the same size; one dimension may be -1 (inferred). */
    public Tensor reshape(int... newShape) {
        return Reshape.apply(this, newShape);
    }

    /** Swaps two dimensions (a copy). */
    public Tensor transpose(int dim0, int dim1) {
        int[] perm = new int[rank()];
        for (int i = 0; i < perm.length; i++) {
            perm[i] = i;
        }
        int a = shape.axis(dim0);
        int b = shape.axis(dim1);
        perm[a] = b;
        perm[b] = a;
        return Permute.apply(this, perm);
    }

    /** Reorders dimensions: output dim i is input dim {@code perm[i]} (a copy). */
    public Tensor permute(int... perm) {
        return Permute.apply(this, perm);
    }

    /** Elements {@code [start, end)} along {@code dim} (a copy). */
    public Tensor slice(int dim, int start, int end) {
        return Slice.apply(this, dim, start, end);
    }

    /** Concatenates tensors along {@code dim}. */
    public static Tensor concat(int dim, Tensor... tensors) {
        return Concat.apply(dim, tensors);
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("Tensor").append(shape).append(' ').append(dtype()).append(' ')
                .append(device());
        if (requiresGrad) {
            sb.append(gradFn != null ? " grad_fn=" + gradFn.op() : " requires_grad");
        }
        if (storage instanceof HeapStorage && numel() <= 16) {
            sb.append(' ').append(Arrays.toString(toArray()));
        }
        return sb.toString();
    }
}
