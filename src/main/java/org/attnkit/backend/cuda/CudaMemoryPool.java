package org.attnkit.backend.cuda;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

/**
 * Device memory of closed tensors, kept for the next allocation of the same size class instead of going back to
 * the driver. Measured on an H200: a LightConv forward whose kernel takes 0.28 ms took 0.72 ms through Java,
 * the difference being cuMemAlloc and cuMemFree of its 268 MB output (cuMemFree also waits for the device).
 *
 * <p>Reuse is safe because every kernel and copy of this backend runs on the device's legacy default stream:
 * whatever was queued on a block before it was closed runs before anything its next owner queues. As in
 * PyTorch's caching allocator, the cached blocks go back to the driver when an allocation fails (which is then
 * retried once) and on {@link CudaStorage#emptyCache}; {@code -Dattnkit.cuda.cacheMemory=false} turns caching
 * off (every close frees, e.g. so that compute-sanitizer sees use after free).
 */
final class CudaMemoryPool {
    /** The system property that turns caching off. */
    static final String PROPERTY = "attnkit.cuda.cacheMemory";

    /** Where the blocks come from and go back to. */
    interface Driver {
        long malloc(int device, long bytes);

        void free(int device, long address);
    }

    /** The pool of every CUDA tensor: the driver API through JCuda. */
    static final CudaMemoryPool SHARED = new CudaMemoryPool(new Driver() {
        @Override
        public long malloc(int device, long bytes) {
            JCudaDriverApi.makeCurrent(device);
            return JCudaDriverApi.malloc(bytes);
        }

        @Override
        public void free(int device, long address) {
            // The cleaner thread has no current context: make the device's primary one current.
            JCudaDriverApi.makeCurrent(device);
            JCudaDriverApi.free(address);
        }
    }, Boolean.parseBoolean(System.getProperty(PROPERTY, "true")));

    private static final long SMALL = 1L << 20;

    private final Driver driver;
    private final boolean caching;
    /** Per device: size class -> free blocks of that class. */
    private final Map<Integer, Map<Long, ArrayDeque<Long>>> free = new HashMap<>();
    private final Map<Integer, Long> cachedBytes = new HashMap<>();

    CudaMemoryPool(Driver driver, boolean caching) {
        this.driver = driver;
        this.caching = caching;
    }

    /**
     * The bytes a request of {@code bytes} takes: a multiple of 512 below 1 MiB, of 2 MiB from there on, so that
     * tensors of nearby sizes share blocks while small ones waste little.
     */
    static long sizeClass(long bytes) {
        long unit = bytes < SMALL ? 512 : 2 * SMALL;
        return Math.max(unit, (bytes + unit - 1) / unit * unit);
    }

    /** A block of at least {@code bytes} on {@code device}: a cached one of its size class, else a new one. */
    synchronized long allocate(int device, long bytes) {
        long size = sizeClass(bytes);
        ArrayDeque<Long> blocks = free.getOrDefault(device, Map.of()).get(size);
        if (blocks != null && !blocks.isEmpty()) {
            cachedBytes.merge(device, -size, Long::sum);
            return blocks.pop();
        }
        try {
            return driver.malloc(device, size);
        } catch (CudaOutOfMemoryException e) {
            if (cachedBytes(device) == 0) {
                throw e;
            }
            emptyCache(device);
            return driver.malloc(device, size);
        }
    }

    /** Takes back the block at {@code address}, allocated for {@code bytes}: cached, or freed when not caching. */
    synchronized void release(int device, long bytes, long address) {
        if (!caching) {
            driver.free(device, address);
            return;
        }
        long size = sizeClass(bytes);
        free.computeIfAbsent(device, d -> new HashMap<>()).computeIfAbsent(size, s -> new ArrayDeque<>()).push(address);
        cachedBytes.merge(device, size, Long::sum);
    }

    /** Bytes held in the cache for {@code device}. */
    synchronized long cachedBytes(int device) {
        return cachedBytes.getOrDefault(device, 0L);
    }

    /** Gives every cached block of {@code device} back to the driver. */
    synchronized void emptyCache(int device) {
        Map<Long, ArrayDeque<Long>> classes = free.remove(device);
        cachedBytes.remove(device);
        if (classes != null) {
            for (ArrayDeque<Long> blocks : classes.values()) {
                for (long address : blocks) {
                    driver.free(device, address);
                }
            }
        }
    }
}
