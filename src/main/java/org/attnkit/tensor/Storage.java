package org.attnkit.tensor;

/**
 * The memory behind a tensor. The CPU uses {@link HeapStorage}; the CUDA backend adds a device
 * storage (a device buffer released by {@code close()}) without changing {@link Tensor}.
 */
public interface Storage {
    /** Where the memory lives. */
    Device device();

    /** Element type of the stored values. */
    DType dtype();

    /** Number of elements. */
    int size();
}
