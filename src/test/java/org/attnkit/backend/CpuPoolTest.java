package org.attnkit.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

class CpuPoolTest {
    @Test
    void everyTaskRunsExactlyOnceAndItsWritesAreVisibleAfterTheCall() {
        for (int tasks : new int[] {0, 1, 2, 3, 7, 64, 1000}) {
            AtomicIntegerArray runs = new AtomicIntegerArray(Math.max(1, tasks));
            int[] plain = new int[Math.max(1, tasks)];
            for (int repeat = 0; repeat < 50; repeat++) {
                CpuPool.parallelFor(tasks, t -> {
                    runs.incrementAndGet(t);
                    plain[t]++; // an ordinary write: the call must publish it
                });
            }
            for (int t = 0; t < tasks; t++) {
                assertEquals(50, runs.get(t), "runs of task " + t + " of " + tasks);
                assertEquals(50, plain[t], "plain writes of task " + t + " of " + tasks);
            }
        }
    }

    @Test
    void aTaskFailureReachesTheCallerWithItsOwnType() {
        IllegalArgumentException thrown = new IllegalArgumentException("task 5 failed");
        IllegalArgumentException caught = assertThrows(IllegalArgumentException.class,
                () -> CpuPool.parallelFor(16, t -> {
                    if (t == 5) {
                        throw thrown;
                    }
                }));
        assertSame(thrown, caught);
        assertThrows(AssertionError.class, () -> CpuPool.parallelFor(4, t -> {
            throw new AssertionError("an error, not an exception");
        }));
        int[] after = new int[8];
        CpuPool.parallelFor(8, t -> after[t] = t + 1); // the pool still works afterwards
        assertEquals(8, after[7]);
    }

    @Test
    void aTaskMayRunAParallelForOfItsOwn() {
        int[][] out = new int[6][10];
        CpuPool.parallelFor(6, outer -> CpuPool.parallelFor(10, inner -> out[outer][inner] = outer * 10 + inner));
        for (int o = 0; o < 6; o++) {
            for (int i = 0; i < 10; i++) {
                assertEquals(o * 10 + i, out[o][i]);
            }
        }
    }

    @Test
    void anInterruptDuringTheCallIsKeptForTheCaller() {
        Thread caller = Thread.currentThread();
        try {
            int[] out = new int[4];
            CpuPool.parallelFor(4, t -> {
                if (t == 0) {
                    caller.interrupt();
                }
                out[t] = 1;
            });
            assertTrue(Thread.interrupted(), "the interrupt flag survives the call");
            assertEquals(4, out[0] + out[1] + out[2] + out[3]);
        } finally {
            Thread.interrupted();
        }
    }
}
