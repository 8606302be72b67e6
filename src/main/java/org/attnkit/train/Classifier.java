package org.attnkit.train;

import org.attnkit.nn.Module;
import org.attnkit.tensor.Tensor;

/** A model the {@link Trainer} can train: class logits {@code [B, classes]} or {@code [B, T, classes]}. */
public interface Classifier {
    Module module();

    Tensor logits(Batch b);
}
