package org.attnkit.backend.cuda;

import java.lang.ref.Cleaner;
import java.util.concurrent.atomic.AtomicLong;
import org.attnkit.tensor.DType;
import org.attnkit.tensor.Device;
import org.attnkit.tensor.Storage;

/**
 * A float32 device buffer: the storage of a tensor on a CUDA device. {@link #close()} releases it
 * deterministically (directly, or through a {@link CudaScope}) to the device's memory pool, where the next
 * allocation of its size class reuses it ({@link CudaMemoryPool}; {@link #emptyCache} gives the pool back to the
 * driver); a {@link Cleaner} releases it when the storage becomes unreachable without having been closed, so a
 * forgotten close leaks nothing for long.
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
        this.buffer = new Buffer(device.index(), (long) size * Float.BYTES, address);
        this.cleanable = CLEANER.register(this, buffer);
    }

    /** A new uninitialized buffer of {@code size} floats on {@code device}. */
    public static CudaStorage allocate(Device device, int size) {
        requireCuda(device, "CudaStorage");
        if (size < 0) {
            throw new IllegalArgumentException("CudaStorage size must be >= 0, got " + size);
        }
        Cuda.requireAvailable("allocate " + size + " floats on " + device);
        JCudaDriverApi.makeCurrent(device.index());
        long address = CudaMemoryPool.SHARED.allocate(device.index(), (long) size * Float.BYTES);
        CudaStorage s = new CudaStorage(device, size, address);
        CudaScope.track(s);
        return s;
    }

    /**
     * Gives the device memory that closed tensors left in the memory pool of {@code device} back to the driver
     * (the pool keeps it for reuse otherwise, and empties itself when an allocation fails).
     */
    public static void emptyCache(Device device) {
        requireCuda(device, "emptyCache");
        CudaMemoryPool.SHARED.emptyCache(device.index());
    }

    /** Bytes of device memory that closed tensors left in the memory pool of {@code device}. */
    public static long cachedBytes(Device device) {
        requireCuda(device, "cachedBytes");
        return CudaMemoryPool.SHARED.cachedBytes(device.index());
    }

    private static void requireCuda(Device device, String what) {
        if (device.isCpu()) {
            throw new IllegalArgumentException(what + " needs a CUDA device, got " + device);
        }
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

    /** Releases the device memory now, to the memory pool (idempotent). */
    @Override
    public void close() {
        cleanable.clean();
    }

    /** The state the cleaner frees; it must not reference the storage itself. */
    private static final class Buffer implements Runnable {
        final int deviceIndex;
        final long bytes;
        final AtomicLong address;

        Buffer(int deviceIndex, long bytes, long address) {
            this.deviceIndex = deviceIndex;
            this.bytes = bytes;
            this.address = new AtomicLong(address);
        }

        @Override
        public void run() {
            long a = address.getAndSet(0);
            if (a != 0) {
                CudaMemoryPool.SHARED.release(deviceIndex, bytes, a);
            }
        }
    }
}
