package org.attnkit.backend;

/**
 * Which backend runs CPU operators. The default is SIMD where an operator has a SIMD
 * implementation and the reference otherwise; {@code -Dattnkit.cpu=ref|simd} changes the default
 * for the whole JVM, and {@link #force} pins one backend on the current thread (tests, the CLI's
 * {@code --backend}). A forced backend is never silently replaced: an operator without it fails.
 */
public final class Backends {
    private static final ThreadLocal<Backend> FORCED = new ThreadLocal<>();

    private Backends() {
    }

    /** The backend pinned on this thread, or null. */
    public static Backend forced() {
        return FORCED.get();
    }

    /** The preferred CPU backend from {@code -Dattnkit.cpu} (default simd). */
    public static Backend preferredCpu() {
        Backend b = Backend.parse(System.getProperty("attnkit.cpu", "simd"));
        if (b == Backend.CUDA) {
            throw new IllegalArgumentException("-Dattnkit.cpu must be ref or simd, got cuda");
        }
        return b;
    }

    /** Pins {@code backend} on this thread until the returned scope is closed. */
    public static Scope force(Backend backend) {
        Backend previous = FORCED.get();
        FORCED.set(backend);
        return () -> {
            if (previous == null) {
                FORCED.remove();
            } else {
                FORCED.set(previous);
            }
        };
    }

    /** Restores the previous choice on close. */
    @FunctionalInterface
    public interface Scope extends AutoCloseable {
        @Override
        void close();
    }
}
