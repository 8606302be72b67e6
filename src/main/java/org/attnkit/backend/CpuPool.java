package org.attnkit.backend;

import java.util.concurrent.ExecutionException;
import java.util.concurrent.ForkJoinPool;
import java.util.function.IntConsumer;
import java.util.stream.IntStream;

/**
 * The thread pool of the SIMD backend. Work is split into a fixed number of tasks chosen by the
 * kernel from the problem's shape, never from the thread count, and every task writes its own
 * outputs (or its own partial sums, reduced afterwards in task order): results are the same bits
 * whatever the number of threads. The pool size is {@code -Dattnkit.threads} or the number of
 * available processors.
 */
public final class CpuPool {
    private static final int THREADS = Integer.getInteger("attnkit.threads",
            Runtime.getRuntime().availableProcessors());
    private static final ForkJoinPool POOL = new ForkJoinPool(Math.max(1, THREADS));

    private CpuPool() {
    }

    /** Number of worker threads. */
    public static int threads() {
        return POOL.getParallelism();
    }

    /** Runs {@code task(0) .. task(tasks - 1)}, in parallel when there is more than one. */
    public static void parallelFor(int tasks, IntConsumer task) {
        if (tasks <= 0) {
            return;
        }
        if (tasks == 1 || POOL.getParallelism() == 1) {
            for (int i = 0; i < tasks; i++) {
                task.accept(i);
            }
            return;
        }
        try {
            POOL.submit(() -> IntStream.range(0, tasks).parallel().forEach(task)).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running a parallel kernel", e);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException r) {
                throw r;
            }
            if (cause instanceof Error err) {
                throw err;
            }
            throw new IllegalStateException(cause);
        }
    }
}
