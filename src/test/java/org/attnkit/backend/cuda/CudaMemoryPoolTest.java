package org.attnkit.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The memory pool's bookkeeping on a fake driver (no GPU): size classes, reuse, the OOM retry, emptying. */
class CudaMemoryPoolTest {
    /** A driver with {@code capacity} bytes that hands out increasing addresses and records every call. */
    static final class FakeDriver implements CudaMemoryPool.Driver {
        final long capacity;
        final Map<Long, Long> live = new HashMap<>();
        final List<String> calls = new ArrayList<>();
        long next = 4096;

        FakeDriver(long capacity) {
            this.capacity = capacity;
        }

        long used() {
            return live.values().stream().mapToLong(Long::longValue).sum();
        }

        @Override
        public long malloc(int device, long bytes) {
            calls.add("malloc " + device + " " + bytes);
            if (used() + bytes > capacity) {
                throw new CudaOutOfMemoryException("fake: out of memory for " + bytes);
            }
            long a = next;
            next += bytes;
            live.put(a, bytes);
            return a;
        }

        @Override
        public void free(int device, long address) {
            calls.add("free " + device + " " + address);
            assertTrue(live.remove(address) != null, "free of an address not allocated: " + address);
        }
    }

    @Test
    void sizeClassesRoundSmallRequestsTo512BytesAndLargeOnesTo2MiB() {
        assertEquals(512, CudaMemoryPool.sizeClass(0));
        assertEquals(512, CudaMemoryPool.sizeClass(4));
        assertEquals(1024, CudaMemoryPool.sizeClass(513));
        assertEquals(1L << 20, CudaMemoryPool.sizeClass((1L << 20) - 1));
        assertEquals(2L << 20, CudaMemoryPool.sizeClass(1L << 20));
        assertEquals(268435456L, CudaMemoryPool.sizeClass(268435456L));
        assertEquals(268435456L + (2L << 20), CudaMemoryPool.sizeClass(268435456L + 4));
    }

    @Test
    void aClosedBlockServesTheNextRequestOfItsSizeClassWithoutTheDriver() {
        FakeDriver d = new FakeDriver(1L << 30);
        CudaMemoryPool pool = new CudaMemoryPool(d, true);
        long a = pool.allocate(0, 1000);
        pool.release(0, 1000, a);
        assertEquals(1024, pool.cachedBytes(0));
        assertEquals(a, pool.allocate(0, 1020), "same size class: the cached block");
        assertEquals(0, pool.cachedBytes(0));
        long b = pool.allocate(0, 1000);
        assertNotEquals(a, b, "a block in use is never handed out twice");
        assertEquals(List.of("malloc 0 1024", "malloc 0 1024"), d.calls);
    }

    @Test
    void devicesAndSizeClassesKeepTheirOwnBlocks() {
        FakeDriver d = new FakeDriver(1L << 30);
        CudaMemoryPool pool = new CudaMemoryPool(d, true);
        long a = pool.allocate(0, 4096);
        pool.release(0, 4096, a);
        long onOtherDevice = pool.allocate(1, 4096);
        long otherClass = pool.allocate(0, 8192);
        assertNotEquals(a, onOtherDevice);
        assertNotEquals(a, otherClass);
        assertEquals(4096, pool.cachedBytes(0));
        assertEquals(0, pool.cachedBytes(1));
    }

    @Test
    void anAllocationThatFailsEmptiesTheCacheAndRetriesOnce() {
        FakeDriver d = new FakeDriver(8L << 20);
        CudaMemoryPool pool = new CudaMemoryPool(d, true);
        long a = pool.allocate(0, 4L << 20);
        long b = pool.allocate(0, 2L << 20);
        pool.release(0, 4L << 20, a);
        pool.release(0, 2L << 20, b);
        long c = pool.allocate(0, 6L << 20); // only fits once the cached 6 MiB went back to the driver
        assertEquals(0, pool.cachedBytes(0));
        assertEquals(6L << 20, d.used());
        assertTrue(d.live.containsKey(c));
        // With nothing cached, running out of memory is the caller's exception.
        assertThrows(CudaOutOfMemoryException.class, () -> pool.allocate(0, 4L << 20));
    }

    @Test
    void withoutCachingEveryReleaseFrees() {
        FakeDriver d = new FakeDriver(1L << 30);
        CudaMemoryPool pool = new CudaMemoryPool(d, false);
        long a = pool.allocate(0, 100);
        pool.release(0, 100, a);
        assertEquals(0, pool.cachedBytes(0));
        assertEquals(0, d.used());
    }

    @Test
    void emptyCacheFreesEveryCachedBlock() {
        FakeDriver d = new FakeDriver(1L << 30);
        CudaMemoryPool pool = new CudaMemoryPool(d, true);
        List<Long> blocks = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            blocks.add(pool.allocate(0, (i + 1) * 3000L));
        }
        long kept = pool.allocate(0, 50);
        for (int i = 0; i < 5; i++) {
            pool.release(0, (i + 1) * 3000L, blocks.get(i));
        }
        pool.emptyCache(0);
        assertEquals(0, pool.cachedBytes(0));
        assertEquals(Map.of(kept, 512L), d.live);
    }
}
