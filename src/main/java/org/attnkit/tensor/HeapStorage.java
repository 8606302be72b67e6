package org.attnkit.tensor;

/** CPU storage: a float[] for F32 or a double[] for F64. Exactly one of the two is non-null. */
public final class HeapStorage implements Storage {
    final float[] floats;
    final double[] doubles;

    HeapStorage(float[] floats) {
        this.floats = floats;
        this.doubles = null;
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
}
