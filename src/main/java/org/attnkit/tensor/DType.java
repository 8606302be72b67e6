package org.attnkit.tensor;

/**
 * Element type of a tensor. {@code F32} is the library's working type on every backend; {@code F64}
 * exists so that the scalar reference can be checked against finite differences in double precision
 * (the reference kernels accumulate in double anyway, so they run unchanged on F64 tensors).
 */
public enum DType {
    F32(4), F64(8);

    private final int bytes;

    DType(int bytes) {
        this.bytes = bytes;
    }

    /** Bytes per element. */
    public int bytes() {
        return bytes;
    }

    /** The safetensors spelling ("F32", "F64"). */
    public String safetensorsName() {
        return name();
    }
}
