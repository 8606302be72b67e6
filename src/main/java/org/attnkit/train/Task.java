package org.attnkit.train;

/**
 * A classification task generated in-process from a seed: {@link #batch(long)} is a pure function of
 * (seed, step), so a resumed run sees exactly the batches of the uninterrupted one.
 */
public interface Task {
    String name();

    /** Vocabulary size (ids lie in [0, vocab)). */
    int vocab();

    /** Number of classes. */
    int classes();

    /** The training batch of step {@code step}. */
    Batch batch(long step);

    /** A fixed held-out set for accuracy. */
    Batch evalSet();
}
