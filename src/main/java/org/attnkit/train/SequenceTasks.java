package org.attnkit.train;

import java.util.SplittableRandom;

/**
 * Two per-token sequence tasks over a small vocabulary, one where locality matters and one where it
 * does not:
 * <ul>
 *   <li>{@code locality} (previous token): the target at t is the token at t-1 (t = 0 is not scored).
 *   A kernel of width 3 sees everything it needs; attention must find the neighbour by position.</li>
 *   <li>{@code nonlocality} (majority): every position's target is the token that occurs most often in
 *   the whole sequence (it occurs {@code T/4 + 1} times, every other token fewer). Order is irrelevant;
 *   each position needs the whole sequence, beyond any small kernel's reach.</li>
 * </ul>
 */
public final class SequenceTasks {
    private SequenceTasks() {
    }

    /** Which of the two tasks. */
    public enum Kind { LOCALITY, NONLOCALITY }

    public static Task create(Kind kind, long seed, int vocab, int time, int batch) {
        return new Gen(kind, seed, vocab, time, batch);
    }

    private record Gen(Kind kind, long seed, int vocab, int time, int batchSize) implements Task {
        Gen {
            if (vocab < 2 || time < 2 || batchSize < 1) {
                throw new IllegalArgumentException("sequence task needs vocab >= 2, time >= 2, batch >= 1; got vocab="
                        + vocab + ", time=" + time + ", batch=" + batchSize);
            }
            if (kind == Kind.NONLOCALITY && (long) (vocab - 1) * (time / 4) < time - (time / 4 + 1)) {
                throw new IllegalArgumentException("nonlocality: vocab " + vocab + " is too small for time " + time
                        + " to have a strict majority token");
            }
        }

        @Override
        public String name() {
            return kind == Kind.LOCALITY ? "locality" : "nonlocality";
        }

        @Override
        public int classes() {
            return vocab;
        }

        @Override
        public Batch batch(long step) {
            return make(new SplittableRandom(seed * 1_000_003L + step), batchSize);
        }

        @Override
        public Batch evalSet() {
            return make(new SplittableRandom(seed * 1_000_003L - 1), 64);
        }

        private Batch make(SplittableRandom r, int b) {
            int[] ids = new int[b * time];
            int[] targets = new int[b * time];
            for (int s = 0; s < b; s++) {
                int off = s * time;
                if (kind == Kind.LOCALITY) {
                    for (int t = 0; t < time; t++) {
                        ids[off + t] = r.nextInt(vocab);
                        targets[off + t] = t == 0 ? Batch.IGNORE : ids[off + t - 1];
                    }
                } else {
                    int major = majoritySequence(r, ids, off);
                    for (int t = 0; t < time; t++) {
                        targets[off + t] = major;
                    }
                }
            }
            return new Batch(ids, b, time, targets);
        }

        /** Fills one sequence with a strict majority token and returns it. */
        private int majoritySequence(SplittableRandom r, int[] ids, int off) {
            int major = r.nextInt(vocab);
            int count = time / 4 + 1;
            int[] counts = new int[vocab];
            int[] seq = new int[time];
            for (int t = 0; t < time; t++) {
                if (t < count) {
                    seq[t] = major;
                } else {
                    int tok;
                    do {
                        tok = r.nextInt(vocab);
                    } while (tok == major || counts[tok] + 1 >= count);
                    seq[t] = tok;
                    counts[tok]++;
                }
            }
            for (int t = time - 1; t > 0; t--) { // Fisher-Yates: the majority token lands anywhere
                int j = r.nextInt(t + 1);
                int tmp = seq[t];
                seq[t] = seq[j];
                seq[j] = tmp;
            }
            System.arraycopy(seq, 0, ids, off, time);
            return major;
        }
    }
}
