package org.attnkit.train;

import java.util.SplittableRandom;

/**
 * The topic-word task of Lu, Mao and Nayak (SPEC 4.2): m topics, each with its own topic word (ids
 * {@code 0..m-1}); every sentence of topic y holds its topic word once, at a random position, among
 * {@code n-1} words drawn from a background vocabulary shared by all topics (ids {@code m..m+V_b-1}).
 * The label is the topic.
 */
public final class TopicTask implements Task {
    public final int topics;
    public final int background;
    public final int length;
    private final int batchSize;
    private final long seed;

    public TopicTask(long seed, int topics, int background, int length, int batchSize) {
        if (topics < 2 || background < 1 || length < 2 || batchSize < 1) {
            throw new IllegalArgumentException("topic task needs topics >= 2, background >= 1, length >= 2, batch >= 1;"
                    + " got topics=" + topics + ", background=" + background + ", length=" + length + ", batch="
                    + batchSize);
        }
        this.seed = seed;
        this.topics = topics;
        this.background = background;
        this.length = length;
        this.batchSize = batchSize;
    }

    /** The SPEC 4.3 sizes: 4 topics, 50 background words, sentences of 6 words. */
    public static TopicTask standard(long seed, int batchSize) {
        return new TopicTask(seed, 4, 50, 6, batchSize);
    }

    @Override
    public String name() {
        return "topic";
    }

    @Override
    public int vocab() {
        return topics + background;
    }

    @Override
    public int classes() {
        return topics;
    }

    @Override
    public Batch batch(long step) {
        return make(new SplittableRandom(seed * 1_000_003L + step), batchSize);
    }

    @Override
    public Batch evalSet() {
        return make(new SplittableRandom(seed * 1_000_003L - 1), 256);
    }

    /** Position of the topic word in sentence s of a batch (the one id below {@link #topics}). */
    public int topicPosition(Batch b, int s) {
        for (int t = 0; t < b.time(); t++) {
            if (b.ids()[s * b.time() + t] < topics) {
                return t;
            }
        }
        throw new IllegalStateException("sentence " + s + " has no topic word");
    }

    private Batch make(SplittableRandom r, int b) {
        int[] ids = new int[b * length];
        int[] targets = new int[b];
        for (int s = 0; s < b; s++) {
            int y = s % topics; // balanced classes
            int pos = r.nextInt(length);
            for (int t = 0; t < length; t++) {
                ids[s * length + t] = t == pos ? y : topics + r.nextInt(background);
            }
            targets[s] = y;
        }
        return new Batch(ids, b, length, targets);
    }
}
