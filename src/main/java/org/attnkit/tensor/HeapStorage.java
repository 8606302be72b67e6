package org.attnkit.tensor;

/**
 * CPU storage: a float[] for F32 or a double[] for F64. Exactly one of the two is non-null. A storage
 * over an array that a {@link CpuScope} handed out is released when that scope closes (the array is
 * recycled): its tensors then refuse to be read.
 */
public final class HeapStorage implements Storage {
    final float[] floats;
    final double[] doubles;
    private volatile boolean released;

    HeapStorage(float[] floats) {
        this.floats = floats;
        this.doubles = null;
        CpuScope.adopt(this, floats);
    }

    HeapStorage(double[] doubles) {
        this.floats = null;
        this.doubles = doubles;
    }

    @Override
    public Device device() {
        return Device.CPU;
    }

    @Override
    public DType dtype() {
        return floats != null ? DType.F32 : DType.F64;
    }

    @Override
    public int size() {
        return floats != null ? floats.length : doubles.length;
    }

    /** True once the scope that lent this storage's array has closed. */
    public boolean isReleased() {
        return released;
    }

    void release() {
        released = true;
    }
}
