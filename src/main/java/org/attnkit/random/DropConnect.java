package org.attnkit.random;

/**
 * DropConnect on the normalized convolution weights of LightConv and DynamicConv (SPEC section 0):
 * each weight entry is dropped with probability {@code p} and the survivors are scaled by
 * {@code 1/(1-p)}, with no renormalization. Masks are drawn from {@link Philox} with
 * {@code (seed, offset)} and regenerated in backward, never stored. Element indices:
 * <ul>
 *   <li>{@link Scope#HEAD_KERNEL}: {@code h*K + k}, one H x K mask per call shared by all (b, t);</li>
 *   <li>{@link Scope#POSITION}: {@code ((b*T + t)*H + h)*K + k}, independent per (b, t, h, k).</li>
 * </ul>
 *
 * @param p drop probability in [0, 1); 0 disables DropConnect (inference)
 */
public record DropConnect(double p, long seed, long offset, Scope scope) {
    /** Granularity of the mask. */
    public enum Scope { HEAD_KERNEL, POSITION }

    /** No DropConnect (inference, or p = 0). */
    public static final DropConnect NONE = new DropConnect(0, 0, 0, Scope.HEAD_KERNEL);

    public DropConnect {
        if (!(p >= 0 && p < 1)) {
            throw new IllegalArgumentException("dropConnect p must be in [0, 1), got " + p);
        }
        if (scope == null) {
            throw new IllegalArgumentException("dropConnect scope must not be null");
        }
    }

    /** True when entries are actually dropped. */
    public boolean active() {
        return p > 0;
    }

    /** The survivors' scale 1/(1-p). */
    public double scale() {
        return 1.0 / (1.0 - p);
    }

    /** The mask value times the scale of element {@code index}: 0 or 1/(1-p). */
    public double factor(long index) {
        if (p == 0) {
            return 1.0;
        }
        return Philox.keep(seed, offset, index, p) ? scale() : 0.0;
    }

    /** Element index of weight (h, k) for {@link Scope#HEAD_KERNEL}. */
    public static long headKernelIndex(int h, int k, int kernelSize) {
        return (long) h * kernelSize + k;
    }

    /** Element index of weight (b, t, h, k) for {@link Scope#POSITION}. */
    public static long positionIndex(int b, int t, int h, int k, int time, int heads, int kernelSize) {
        return (((long) b * time + t) * heads + h) * kernelSize + k;
    }
}
