package org.attnkit.train;

/**
 * A batch of token sequences {@code ids[B,T]} (row-major) with class targets: one per sequence
 * ({@code targets.length == B}) or one per token ({@code B*T}); {@link #IGNORE} marks a target that
 * neither the loss nor the accuracy counts.
 */
public record Batch(int[] ids, int batch, int time, int[] targets) {
    public static final int IGNORE = -100;

    public Batch {
        if (ids.length != batch * time) {
            throw new IllegalArgumentException("Batch: ids has " + ids.length + " entries, expected B*T = "
                    + batch * time);
        }
        if (targets.length != batch && targets.length != batch * time) {
            throw new IllegalArgumentException("Batch: targets has " + targets.length + " entries, expected B = "
                    + batch + " or B*T = " + batch * time);
        }
    }

    public boolean perToken() {
        return targets.length == batch * time && time != 1;
    }
}
