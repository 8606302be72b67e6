package org.attnkit.ops.loss;

/** How a loss combines its per-example values. */
public enum Reduction {
    /** One loss per example, shaped like the targets; ignored examples get 0. */
    NONE,
    /** The sum over the examples that are not ignored, a scalar. */
    SUM,
    /** The sum over the examples that are not ignored, divided by their count, a scalar (0 when none). */
    MEAN
}
