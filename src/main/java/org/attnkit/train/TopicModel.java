package org.attnkit.train;

import java.util.SplittableRandom;
import org.attnkit.nn.Init;
import org.attnkit.nn.Linear;
import org.attnkit.nn.Module;
import org.attnkit.ops.activation.Tanh;
import org.attnkit.ops.arith.Mul;
import org.attnkit.ops.embedding.Embedding;
import org.attnkit.ops.matmul.MatMul;
import org.attnkit.ops.reduce.Sum;
import org.attnkit.ops.softmax.Softmax;
import org.attnkit.tensor.Tensor;

/**
 * The single-query attention classifier of SPEC 4.1: word embeddings {@code v_w [d]} and keys
 * {@code kappa_w [dk]}, one query {@code q [dk]}, {@code s_w = q . kappa_w}, {@code a = softmax(s)} over
 * the sentence, {@code vbar = sum_i a_i v_{w_i}}, logits = F(vbar) with F a linear layer or a 2-layer
 * tanh MLP.
 *
 * <p>The topic words' tables are always trained. The query and the background words' tables are trained
 * only when asked: SPEC 4.3's identity assumes a fixed q and background words with zero embeddings and a
 * common, frozen score {@code s0}; {@link #identityModel} builds exactly that.
 */
public final class TopicModel extends Module implements Classifier {
    public final int topics;
    public final int length;
    public final Tensor topicEmb;   // [m, d]
    public final Tensor topicKey;   // [m, dk]
    public final Tensor backEmb;    // [Vb, d]
    public final Tensor backKey;    // [Vb, dk]
    public final Tensor query;      // [dk]
    private final Linear hidden;
    private final Linear out;

    /**
     * @param hiddenWidth 0 for a linear classifier, else a tanh hidden layer of that width
     * @param identityAssumptions zero, frozen background embeddings; one frozen background key; frozen q
     */
    public TopicModel(SplittableRandom rng, TopicTask task, int dim, int keyDim, int hiddenWidth,
            boolean identityAssumptions, double embedStd) {
        topics = task.topics;
        length = task.length;
        Tensor te = Init.normal(rng, embedStd, task.topics, dim);
        Tensor tk = Init.normal(rng, embedStd, task.topics, keyDim);
        Tensor q = Init.normal(rng, 1.0 / Math.sqrt(keyDim), keyDim);
        topicEmb = parameter("topic_embed", te);
        topicKey = parameter("topic_key", tk);
        if (identityAssumptions) {
            backEmb = Tensor.zeros(task.background, dim);
            Tensor common = Init.normal(rng, embedStd, 1, keyDim);
            float[] k = new float[task.background * keyDim];
            for (int i = 0; i < k.length; i++) {
                k[i] = common.data()[i % keyDim];
            }
            backKey = Tensor.wrap(k, task.background, keyDim);
            query = q;
        } else {
            backEmb = parameter("background_embed", Init.normal(rng, embedStd, task.background, dim));
            backKey = parameter("background_key", Init.normal(rng, embedStd, task.background, keyDim));
            query = parameter("query", q);
        }
        if (hiddenWidth > 0) {
            hidden = child("hidden", new Linear(rng, dim, hiddenWidth, true));
            out = child("out", new Linear(rng, hiddenWidth, task.topics, true));
        } else {
            hidden = null;
            out = child("out", new Linear(rng, dim, task.topics, true));
        }
    }

    @Override
    public Module module() {
        return this;
    }

    /** Attention weights {@code a [B, n]}. */
    public Tensor attention(Batch b) {
        Tensor keys = Tensor.concat(0, topicKey, backKey);
        int dk = keys.dim(1);
        Tensor k = Embedding.apply(b.ids(), new int[] {b.batch() * b.time()}, keys); // [B*n, dk]
        Tensor s = MatMul.apply(k, query.reshape(dk, 1)).reshape(b.batch(), b.time());
        return Softmax.apply(s, -1);
    }

    @Override
    public Tensor logits(Batch b) {
        Tensor table = Tensor.concat(0, topicEmb, backEmb);
        Tensor v = Embedding.apply(b.ids(), new int[] {b.batch(), b.time()}, table); // [B, n, d]
        Tensor a = attention(b).reshape(b.batch(), b.time(), 1);
        Tensor vbar = Sum.apply(Mul.apply(a, v), 1, false); // [B, d]
        return hidden == null ? out.forward(vbar) : out.forward(Tanh.apply(hidden.forward(vbar)));
    }

    /** The score {@code s_w = q . kappa_w} of topic word w, in double. */
    public double topicScore(int w) {
        return dot(query.toDoubleArray(), 0, topicKey.toDoubleArray(), w * topicKey.dim(1), topicKey.dim(1));
    }

    /** The common background score {@code s0} (meaningful under the identity assumptions). */
    public double backgroundScore() {
        return dot(query.toDoubleArray(), 0, backKey.toDoubleArray(), 0, backKey.dim(1));
    }

    /**
     * SPEC 4.3's conserved quantity for topic word w:
     * {@code I = |v_w|^2 - (2/|q|^2) (s_w + exp(s_w - s0)/(n-1))}, in double.
     */
    public double identity(int w) {
        double[] v = topicEmb.toDoubleArray();
        int d = topicEmb.dim(1);
        double vv = dot(v, w * d, v, w * d, d);
        double[] q = query.toDoubleArray();
        double qq = dot(q, 0, q, 0, q.length);
        double s = topicScore(w);
        return vv - 2.0 / qq * (s + Math.exp(s - backgroundScore()) / (length - 1));
    }

    /** {@code |v_w|^2} of topic word w. */
    public double embeddingNormSq(int w) {
        double[] v = topicEmb.toDoubleArray();
        int d = topicEmb.dim(1);
        return dot(v, w * d, v, w * d, d);
    }

    private static double dot(double[] a, int ao, double[] b, int bo, int n) {
        double s = 0;
        for (int i = 0; i < n; i++) {
            s += a[ao + i] * b[bo + i];
        }
        return s;
    }
}
