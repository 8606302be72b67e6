package org.attnkit.autograd;

/**
 * Whether operations are recorded for backward, per thread. Use
 * {@code try (var g = GradMode.noGrad()) { ... }} for inference and parameter updates.
 */
public final class GradMode {
    private static final ThreadLocal<Boolean> ENABLED = ThreadLocal.withInitial(() -> Boolean.TRUE);

    private GradMode() {
    }

    /** True when operations on this thread record graph nodes. */
    public static boolean isEnabled() {
        return ENABLED.get();
    }

    /** Disables recording on this thread until the returned scope is closed. */
    public static Scope noGrad() {
        return set(false);
    }

    /** Enables recording on this thread until the returned scope is closed. */
    public static Scope enableGrad() {
        return set(true);
    }

    private static Scope set(boolean enabled) {
        boolean previous = ENABLED.get();
        ENABLED.set(enabled);
        return () -> ENABLED.set(previous);
    }

    /** Restores the previous mode on close. */
    @FunctionalInterface
    public interface Scope extends AutoCloseable {
        @Override
        void close();
    }
}
