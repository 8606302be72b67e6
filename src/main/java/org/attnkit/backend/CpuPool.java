package org.attnkit.backend;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;

/**
 * The thread pool of the SIMD backend. Work is split into a fixed number of tasks chosen by the
 * kernel from the problem's shape, never from the thread count, and every task writes its own
 * outputs (or its own partial sums, reduced afterwards in task order): results are the same bits
 * whatever the number of threads, and whichever thread runs a task. The pool size is
 * {@code -Dattnkit.threads} or the number of available processors.
 *
 * <p>The calling thread works too: it hands the batch to {@code threads - 1} pool workers and takes
 * tasks from the same counter until none is left, then waits only for the tasks other threads are
 * still running. Submitting the whole batch to the pool and parking on its future cost 21-37 us per
 * call even with no work (a loop of 20,000 empty 4-task calls), most of the time of a small operator
 * call; a worker that wakes after the caller has taken every task finds none and leaves.
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
        Batch batch = new Batch(tasks, task, Thread.currentThread());
        int helpers = Math.min(POOL.getParallelism(), tasks) - 1;
        for (int h = 0; h < helpers; h++) {
            POOL.execute(batch);
        }
        batch.run();
        batch.awaitOthers();
        Throwable failure = batch.failure.get();
        if (failure instanceof RuntimeException r) {
            throw r;
        }
        if (failure instanceof Error err) {
            throw err;
        }
        if (failure != null) {
            throw new IllegalStateException(failure);
        }
    }

    /** One parallelFor call: tasks taken from a shared counter by the caller and its helpers. */
    private static final class Batch implements Runnable {
        private final int tasks;
        private final IntConsumer body;
        private final Thread caller;
        private final AtomicInteger next = new AtomicInteger();
        private final AtomicInteger done = new AtomicInteger();
        final AtomicReference<Throwable> failure = new AtomicReference<>();

        Batch(int tasks, IntConsumer body, Thread caller) {
            this.tasks = tasks;
            this.body = body;
            this.caller = caller;
        }

        /** Takes tasks until none is left; after a failure the rest are skipped (but counted). */
        @Override
        public void run() {
            for (int i = next.getAndIncrement(); i < tasks; i = next.getAndIncrement()) {
                try {
                    if (failure.get() == null) {
                        body.accept(i);
                    }
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                } finally {
                    if (done.incrementAndGet() == tasks) {
                        LockSupport.unpark(caller);
                    }
                }
            }
        }

        /**
         * Returns once every task has finished (the tasks' writes then happen-before the return, through
         * {@code done}). Not interruptible - the tasks write into the caller's arrays - but an interrupt
         * that arrives meanwhile is kept for the caller.
         */
        void awaitOthers() {
            boolean interrupted = false;
            for (int spins = 0; done.get() < tasks; spins++) {
                if (spins < 100) {
                    Thread.onSpinWait();
                } else {
                    LockSupport.park(this);
                    interrupted |= Thread.interrupted();
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
