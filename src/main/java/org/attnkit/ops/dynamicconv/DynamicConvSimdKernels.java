package org.attnkit.ops.dynamicconv;

import org.attnkit.tensor.Tensor;

/**
 * The SIMD backend of {@link DynamicConv} (float32). The forward pass generates, normalizes, drops and
 * applies the kernels one (batch, time tile) at a time ({@link DynamicConvSimd}); the backward pass
 * recomputes them and runs in three phases (weights and dG, input gradients, generator gradients).
 * Every task writes its own block of every output, so the bits do not depend on the thread count.
 */
final class DynamicConvSimdKernels implements DynamicConvKernels {

    private static DynamicConvSimd.Geom geom(Tensor x, Tensor query, Tensor weight, int heads,
                                             DynamicConv.Options options) {
        return new DynamicConvSimd.Geom(x.dim(0), x.dim(1), x.dim(2), query == null ? x.dim(2) : query.dim(2),
                heads, weight.dim(0) / heads, options.paddingLeft(), options.weightSoftmax(),
                options.renormPadding(), options.dropConnect());
    }

    @Override
    public Tensor forward(Tensor x, Tensor query, Tensor weight, Tensor bias, int heads, DynamicConv.Options options) {
        DynamicConvSimd.Geom g = geom(x, query, weight, heads, options);
        float[] xv = x.data();
        float[] qv = query == null ? xv : query.data();
        float[] y = new float[g.batch() * g.time() * g.channels()];
        DynamicConvSimd.forward(xv, qv, DynamicConvSimd.transposedPanels(weight.data(), g),
                DynamicConvSimd.paddedBias(bias == null ? null : bias.data(), g),
                DynamicConvSimd.headKernelFactors(g), y, g);
        return Tensor.wrap(y, g.batch(), g.time(), g.channels());
    }

    @Override
    public Tensor[] backward(Tensor dy, Tensor x, Tensor query, Tensor weight, Tensor bias, int heads,
                             DynamicConv.Options options, boolean[] needsGrad) {
        DynamicConvSimd.Geom g = geom(x, query, weight, heads, options);
        boolean needX = needsGrad[0];
        boolean needQuery = query != null && needsGrad[1];
        boolean needWeight = needsGrad[2];
        boolean needBias = bias != null && needsGrad[3];
        boolean needDq = needQuery || (needX && query == null);
        boolean needG = needWeight || needBias || needDq;
        Tensor[] grads = new Tensor[4];
        if (!needX && !needG) {
            return grads;
        }
        float[] xv = x.data();
        float[] qv = query == null ? xv : query.data();
        float[] g0 = dy.data();
        float[] wq = weight.data();
        int rows = g.batch() * g.time();
        int taps = g.taps();
        float[] wtAll = needX ? new float[rows * taps] : null; // [B*T, H*K] dropped weights
        float[] dGAll = needG ? new float[rows * taps] : null; // [B*T, H*K] logit gradient
        DynamicConvSimd.weightsAndLogitGradient(xv, qv, g0, DynamicConvSimd.transposedPanels(wq, g),
                DynamicConvSimd.paddedBias(bias == null ? null : bias.data(), g),
                DynamicConvSimd.headKernelFactors(g), wtAll, dGAll, g);

        float[] dx = needX ? new float[xv.length] : null;
        float[] dq = !needDq ? null : query == null ? dx : new float[qv.length];
        DynamicConvSimd.inputGradients(g0, wtAll, dGAll, dq == null ? null : DynamicConvSimd.columnPanels(wq, g), dx,
                dq, g);

        float[] dw = needWeight ? new float[wq.length] : null;
        float[] db = needBias ? new float[taps] : null;
        if (needWeight || needBias) {
            DynamicConvSimd.generatorGradients(qv, dGAll, dw, db, g);
        }
        if (needX) {
            grads[0] = Tensor.wrap(dx, g.batch(), g.time(), g.channels());
        }
        if (needQuery) {
            grads[1] = Tensor.wrap(dq, g.batch(), g.time(), g.queryChannels());
        }
        if (needWeight) {
            grads[2] = Tensor.wrap(dw, taps, g.queryChannels());
        }
        if (needBias) {
            grads[3] = Tensor.wrap(db, taps);
        }
        return grads;
    }
}
