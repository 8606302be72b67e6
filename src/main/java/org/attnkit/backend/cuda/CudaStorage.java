package org.attnkit.backend.cuda;

import java.lang.ref.Cleaner;
import java.util.concurrent.atomic.AtomicLong;
import org.attnkit.tensor.DType;
import org.attnkit.tensor.Device;
import org.attnkit.tensor.Storage;

/**
 * A float32 device buffer: the storage of a tensor on a CUDA device. {@link #close()} frees it
 * deterministically (directly, or through a {@link CudaScope}); a {@link Cleaner} frees it when the
 * storage becomes unreachable without having been closed, so a forgotten close leaks nothing for long.
 */
public final class CudaStorage implements Storage, AutoCloseable {
    private static final Cleaner CLEANER = Cleaner.create();

    private final Device device;
    private final int size;
    private final Buffer buffer;
    private final Cleaner.Cleanable cleanable;

    private CudaStorage(Device device, int size, long address) {
        this.device = device;
        this.size = size;
        this.buffer = new Buffer(device.index(), address);
        this.cleanable = CLEANER.register(this, buffer);
    }

    /** A new uninitialized buffer of {@code size} floats on {@code device}. */
    public static CudaStorage allocate(Device device, int size) {
        if (device.isCpu()) {
            throw new IllegalArgumentException("CudaStorage needs a CUDA device, got " + device);
        }
        if (size < 0) {
            throw new IllegalArgumentException("CudaStorage size must be >= 0, got " + size);
        }
        Cuda.requireAvailable("allocate " + size + " floats on " + device);
        JCudaDriverApi.makeCurrent(device.index());
        long address = JCudaDriverApi.malloc((long) size * Float.BYTES);
        CudaStorage s = new CudaStorage(device, size, address);
        CudaScope.track(s);
        return s;
    }

    /** The raw device address; throws once the buffer was released. */
    public long address() {
        long a = buffer.address.get();
        if (a == 0) {
            throw new IllegalStateException("the device buffer of this tensor on " + device + " was released");
        }
        return a;
    }

    /** True after {@link #close()}. */
    public boolean isReleased() {
        return buffer.address.get() == 0;
    }

    @Override
    public Device device() {
        return device;
    }

    @Override
    public DType dtype() {
        return DType.F32;
    }

    @Override
    public int size() {
        return size;
    }

    /** Frees the device memory now (idempotent). */
    @Override
    public void close() {
        cleanable.clean();
    }

    /** The state the cleaner frees; it must not reference the storage itself. */
    private static final class Buffer implements Runnable {
        final int deviceIndex;
        final AtomicLong address;

        Buffer(int deviceIndex, long address) {
            this.deviceIndex = deviceIndex;
            this.address = new AtomicLong(address);
        }

        @Override
        public void run() {
            long a = address.getAndSet(0);
            if (a != 0) {
                // The cleaner thread has no current context: make the device's primary one current.
                JCudaDriverApi.makeCurrent(deviceIndex);
                JCudaDriverApi.free(a);
            }
        }
    }
}
