package org.attnkit.ops.lightconv;

import org.attnkit.random.DropConnect;
import org.attnkit.tensor.CpuScope;
import org.attnkit.tensor.Tensor;

/**
 * The SIMD backend of {@link LightConv} (float32): the H x K weight math in double as in the
 * reference ({@link LightConvWeights}), the convolutions and reductions in {@link LightConvSimd}.
 * Backward fuses dx with the weight and bias partial sums per (batch, time block) task, and reduces
 * the partials in task order, so results do not depend on the thread count.
 */
final class LightConvSimdKernels implements LightConvKernels {
    @Override
    public Tensor forward(Tensor x, Tensor weight, Tensor bias, LightConv.Options options) {
        int B = x.dim(0);
        int T = x.dim(1);
        int C = x.dim(2);
        int H = weight.dim(0);
        int K = weight.dim(1);
        int P = options.paddingLeft();
        DropConnect drop = options.dropConnect();
        double[] wn = LightConvWeights.normalized(weight, options.weightSoftmax()); // [H,K]
        float[] b = bias == null ? null : bias.data();
        // The per-position kernels add into zeros; the panel kernels write every element.
        float[] y = perPosition(drop) ? new float[B * T * C] : CpuScope.outputArray(B * T * C);
        if (perPosition(drop)) {
            LightConvSimd.convolvePosition(x.data(), toFloat(wn), drop, b, y, B, T, C, H, K, P);
        } else {
            float[] w = toFloat(LightConvWeights.headKernelDropped(wn, H, K, drop));
            LightConvSimd.convolve(x.data(), LightConvSimd.weightPanels(w, C, H, K), b, y, B, T, C, K, P);
        }
        return Tensor.wrap(y, B, T, C);
    }

    @Override
    public Tensor[] backward(Tensor dy, Tensor x, Tensor weight, boolean hasBias, LightConv.Options options,
                             boolean[] needsGrad) {
        int B = x.dim(0);
        int T = x.dim(1);
        int C = x.dim(2);
        int H = weight.dim(0);
        int K = weight.dim(1);
        int P = options.paddingLeft();
        DropConnect drop = options.dropConnect();
        boolean needX = needsGrad[0];
        boolean needW = needsGrad[1];
        boolean needBias = hasBias && needsGrad.length > 2 && needsGrad[2];
        double[] wn = LightConvWeights.normalized(weight, options.weightSoftmax()); // [H,K]
        float[] g = dy.data();
        float[] xv = x.data();
        Tensor[] grads = new Tensor[3];
        float[] dx = !needX ? null : perPosition(drop) ? new float[B * T * C] : CpuScope.outputArray(B * T * C);
        double[] dwn = needW ? new double[H * K] : null; // gradient of the normalized weights, [H,K]
        double[] db = needBias ? new double[C] : null;

        if (perPosition(drop)) {
            if (needX) {
                LightConvSimd.inputGradientPosition(g, toFloat(wn), drop, dx, B, T, C, H, K, P);
            }
            if (needW) {
                for (double[] part : LightConvSimd.weightGradientPosition(xv, g, drop, B, T, C, H, K, P)) {
                    for (int i = 0; i < dwn.length; i++) {
                        dwn[i] += part[i];
                    }
                }
            }
            if (needBias) {
                LightConvSimd.Partials[] parts = LightConvSimd.backwardBlocks(xv, g, null, null, false, true, B, T, C,
                        H, K, P);
                addBias(parts, db);
            }
        } else {
            float[] w = toFloat(LightConvWeights.headKernelDropped(wn, H, K, drop));
            float[] reversed = needX ? LightConvSimd.weightPanels(LightConvSimd.reversedWeights(w, H, K), C, H, K) : null;
            LightConvSimd.Partials[] parts = LightConvSimd.backwardBlocks(xv, g, reversed, dx, needW, needBias, B, T,
                    C, H, K, P);
            if (needW) {
                for (LightConvSimd.Partials part : parts) { // in task order
                    for (int i = 0; i < H * K; i++) {
                        dwn[i] += part.weight()[i];
                    }
                }
                for (int h = 0; h < H; h++) {
                    for (int k = 0; k < K; k++) {
                        dwn[h * K + k] *= drop.factor(DropConnect.headKernelIndex(h, k, K));
                    }
                }
            }
            if (needBias) {
                addBias(parts, db);
            }
        }
        if (needX) {
            grads[0] = Tensor.wrap(dx, B, T, C);
        }
        if (needW) {
            double[] dw = options.weightSoftmax() ? LightConvWeights.softmaxBackward(wn, dwn, H, K) : dwn;
            grads[1] = Tensor.fromDoubles(dw, weight.dtype(), H, K);
        }
        if (needBias) {
            grads[2] = Tensor.fromDoubles(db, dy.dtype(), C);
        }
        return grads;
    }

    private static boolean perPosition(DropConnect drop) {
        return drop.active() && drop.scope() == DropConnect.Scope.POSITION;
    }

    /** db[c] += the bias partials of every task, in task order. */
    private static void addBias(LightConvSimd.Partials[] parts, double[] db) {
        for (LightConvSimd.Partials part : parts) {
            for (int c = 0; c < db.length; c++) {
                db[c] += part.bias()[c];
            }
        }
    }

    private static float[] toFloat(double[] v) {
        float[] f = new float[v.length];
        for (int i = 0; i < f.length; i++) {
            f[i] = (float) v[i];
        }
        return f;
    }
}
