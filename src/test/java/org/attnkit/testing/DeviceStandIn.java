package org.attnkit.testing;

import org.attnkit.tensor.DType;
import org.attnkit.tensor.Device;
import org.attnkit.tensor.Storage;
import org.attnkit.tensor.Tensor;

/** Tensors that only claim to live on a CUDA device, for the checks that must run before any native call. */
public final class DeviceStandIn {
    private DeviceStandIn() {
    }

    /** A storage on {@code device} that holds nothing: reading it throws, so only checks can pass it. */
    private record EmptyStorage(Device device, int size) implements Storage {
        @Override
        public DType dtype() {
            return DType.F32;
        }
    }

    /** A float32 tensor of {@code shape} "on" {@code device}, backed by nothing. */
    public static Tensor on(Device device, int... shape) {
        int n = 1;
        for (int d : shape) {
            n *= d;
        }
        return Tensor.onStorage(new EmptyStorage(device, n), shape);
    }
}
