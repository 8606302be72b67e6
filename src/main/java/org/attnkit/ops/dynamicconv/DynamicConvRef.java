package org.attnkit.ops.dynamicconv;

import org.attnkit.random.DropConnect;
import org.attnkit.tensor.Tensor;

/** Scalar reference of {@link DynamicConv}, in double: the definition other backends are tested against. */
final class DynamicConvRef implements DynamicConvKernels {

    /** Sizes of one call. */
    private record Dims(int batch, int time, int channels, int queryChannels, int heads, int kernelSize,
            int perHead, int pad) {
        static Dims of(Tensor x, Tensor query, Tensor weight, int heads, DynamicConv.Options options) {
            int queryChannels = query == null ? x.dim(2) : query.dim(2);
            return new Dims(x.dim(0), x.dim(1), x.dim(2), queryChannels, heads, weight.dim(0) / heads,
                    x.dim(2) / heads, options.paddingLeft());
        }

        boolean inRange(int t, int k) {
            int src = t + k - pad;
            return src >= 0 && src < time;
        }
    }

    @Override
    public Tensor forward(Tensor x, Tensor query, Tensor weight, Tensor bias, int heads, DynamicConv.Options options) {
        Dims d = Dims.of(x, query, weight, heads, options);
        double[] xv = x.toDoubleArray();
        double[] qv = query == null ? xv : query.toDoubleArray();
        double[] wn = normalizedKernels(d, qv, weight, bias, options); // [B,T,H,K]
        double[] wt = dropped(d, wn, options.dropConnect()); // [B,T,H,K]
        double[] y = new double[xv.length]; // [B,T,C]
        int kk = d.kernelSize;
        for (int b = 0; b < d.batch; b++) {
            for (int t = 0; t < d.time; t++) {
                for (int c = 0; c < d.channels; c++) {
                    int h = c / d.perHead;
                    int row = ((b * d.time + t) * d.heads + h) * kk;
                    double acc = 0;
                    for (int k = 0; k < kk; k++) {
                        if (d.inRange(t, k)) {
                            acc += wt[row + k] * xv[(b * d.time + t + k - d.pad) * d.channels + c];
                        }
                    }
                    y[(b * d.time + t) * d.channels + c] = acc;
                }
            }
        }
        return Tensor.fromDoubles(y, x.dtype(), d.batch, d.time, d.channels);
    }

    @Override
    public Tensor[] backward(Tensor dy, Tensor x, Tensor query, Tensor weight, Tensor bias, int heads,
            DynamicConv.Options options, boolean[] needsGrad) {
        Dims d = Dims.of(x, query, weight, heads, options);
        boolean needX = needsGrad[0];
        boolean needQuery = query != null && needsGrad[1];
        boolean needWeight = needsGrad[2];
        boolean needBias = bias != null && needsGrad[3];
        // The generator's gradient reaches x when x generates the kernels.
        boolean needG = needWeight || needBias || needQuery || (needX && query == null);
        int kk = d.kernelSize;
        int rows = d.heads * kk;
        double[] g = dy.toDoubleArray(); // [B,T,C]
        double[] xv = x.toDoubleArray(); // [B,T,C]
        double[] qv = query == null ? xv : query.toDoubleArray(); // [B,T,Cq]
        double[] wq = weight.toDoubleArray(); // [H*K,Cq]
        DropConnect drop = options.dropConnect();
        double[] wn = normalizedKernels(d, qv, weight, bias, options); // [B,T,H,K]
        double[] wt = dropped(d, wn, drop); // [B,T,H,K]
        Tensor[] grads = new Tensor[4];

        double[] dx = needX ? new double[xv.length] : null; // [B,T,C]
        if (needX) {
            // Scatter from each output t so the weights are read at the output time, as in the forward.
            for (int b = 0; b < d.batch; b++) {
                for (int t = 0; t < d.time; t++) {
                    for (int c = 0; c < d.channels; c++) {
                        int h = c / d.perHead;
                        int row = ((b * d.time + t) * d.heads + h) * kk;
                        double gy = g[(b * d.time + t) * d.channels + c];
                        for (int k = 0; k < kk; k++) {
                            if (d.inRange(t, k)) {
                                dx[(b * d.time + t + k - d.pad) * d.channels + c] += wt[row + k] * gy;
                            }
                        }
                    }
                }
            }
        }

        if (needG) {
            double[] dG = new double[wn.length]; // [B,T,H,K]
            for (int b = 0; b < d.batch; b++) {
                for (int t = 0; t < d.time; t++) {
                    for (int h = 0; h < d.heads; h++) {
                        int row = ((b * d.time + t) * d.heads + h) * kk;
                        double[] dwn = new double[kk]; // gradient of the normalized weights [K]
                        for (int k = 0; k < kk; k++) {
                            if (!d.inRange(t, k)) {
                                continue; // the tap reads zero padding
                            }
                            int src = t + k - d.pad;
                            double acc = 0;
                            for (int r = 0; r < d.perHead; r++) {
                                int c = h * d.perHead + r;
                                acc += g[(b * d.time + t) * d.channels + c] * xv[(b * d.time + src) * d.channels + c];
                            }
                            dwn[k] = acc * drop.factor(maskIndex(d, drop, b, t, h, k));
                        }
                        if (options.weightSoftmax()) {
                            // Out-of-range taps under renormPadding have wn = 0, so they drop out of both
                            // the dot product and their own dG: the softmax backward over the valid taps.
                            double dot = 0;
                            for (int k = 0; k < kk; k++) {
                                dot += wn[row + k] * dwn[k];
                            }
                            for (int k = 0; k < kk; k++) {
                                dG[row + k] = wn[row + k] * (dwn[k] - dot);
                            }
                        } else {
                            System.arraycopy(dwn, 0, dG, row, kk);
                        }
                    }
                }
            }

            int cq = d.queryChannels;
            double[] dq = needQuery || (needX && query == null) ? new double[qv.length] : null; // [B,T,Cq]
            double[] dw = needWeight ? new double[wq.length] : null; // [H*K,Cq]
            double[] db = needBias ? new double[rows] : null; // [H*K]
            for (int n = 0; n < d.batch * d.time; n++) {
                for (int j = 0; j < rows; j++) {
                    double gj = dG[n * rows + j];
                    if (db != null) {
                        db[j] += gj;
                    }
                    for (int c = 0; c < cq; c++) {
                        if (dw != null) {
                            dw[j * cq + c] += gj * qv[n * cq + c];
                        }
                        if (dq != null) {
                            dq[n * cq + c] += gj * wq[j * cq + c];
                        }
                    }
                }
            }
            if (query == null && dx != null) {
                for (int i = 0; i < dx.length; i++) {
                    dx[i] += dq[i];
                }
            }
            if (needQuery) {
                grads[1] = Tensor.fromDoubles(dq, query.dtype(), query.shape().toArray());
            }
            if (needWeight) {
                grads[2] = Tensor.fromDoubles(dw, weight.dtype(), weight.shape().toArray());
            }
            if (needBias) {
                grads[3] = Tensor.fromDoubles(db, bias.dtype(), rows);
            }
        }
        if (needX) {
            grads[0] = Tensor.fromDoubles(dx, x.dtype(), d.batch, d.time, d.channels);
        }
        return grads;
    }

    /**
     * The normalized kernels wn[B,T,H,K]: the generated logits G, then the softmax over all K taps, or
     * over the in-range taps only (the others 0) with renormPadding; G itself without softmax, with the
     * out-of-range taps zeroed under renormPadding (they read zero padding either way).
     */
    private static double[] normalizedKernels(Dims d, double[] qv, Tensor weight, Tensor bias,
            DynamicConv.Options options) {
        int kk = d.kernelSize;
        int rows = d.heads * kk;
        int cq = d.queryChannels;
        double[] wq = weight.toDoubleArray(); // [H*K,Cq]
        double[] bv = bias == null ? null : bias.toDoubleArray(); // [H*K]
        double[] wn = new double[d.batch * d.time * rows]; // [B,T,H,K]
        boolean renorm = options.renormPadding();
        for (int b = 0; b < d.batch; b++) {
            for (int t = 0; t < d.time; t++) {
                int n = b * d.time + t;
                for (int j = 0; j < rows; j++) {
                    double acc = bv == null ? 0 : bv[j];
                    for (int c = 0; c < cq; c++) {
                        acc += wq[j * cq + c] * qv[n * cq + c];
                    }
                    wn[n * rows + j] = acc;
                }
                for (int h = 0; h < d.heads; h++) {
                    int row = n * rows + h * kk;
                    if (!options.weightSoftmax()) {
                        if (renorm) {
                            for (int k = 0; k < kk; k++) {
                                if (!d.inRange(t, k)) {
                                    wn[row + k] = 0;
                                }
                            }
                        }
                        continue;
                    }
                    double max = Double.NEGATIVE_INFINITY;
                    for (int k = 0; k < kk; k++) {
                        if (!renorm || d.inRange(t, k)) {
                            max = Math.max(max, wn[row + k]);
                        }
                    }
                    double sum = 0;
                    for (int k = 0; k < kk; k++) {
                        double e = !renorm || d.inRange(t, k) ? Math.exp(wn[row + k] - max) : 0;
                        wn[row + k] = e;
                        sum += e;
                    }
                    for (int k = 0; k < kk; k++) {
                        wn[row + k] /= sum;
                    }
                }
            }
        }
        return wn;
    }

    /** wn times its DropConnect factor (a copy of wn when DropConnect is off). */
    private static double[] dropped(Dims d, double[] wn, DropConnect drop) {
        double[] wt = wn.clone();
        if (!drop.active()) {
            return wt;
        }
        int kk = d.kernelSize;
        for (int b = 0; b < d.batch; b++) {
            for (int t = 0; t < d.time; t++) {
                for (int h = 0; h < d.heads; h++) {
                    int row = ((b * d.time + t) * d.heads + h) * kk;
                    for (int k = 0; k < kk; k++) {
                        wt[row + k] *= drop.factor(maskIndex(d, drop, b, t, h, k));
                    }
                }
            }
        }
        return wt;
    }

    private static long maskIndex(Dims d, DropConnect drop, int b, int t, int h, int k) {
        return drop.scope() == DropConnect.Scope.POSITION
                ? DropConnect.positionIndex(b, t, h, k, d.time, d.heads, d.kernelSize)
                : DropConnect.headKernelIndex(h, k, d.kernelSize);
    }
}
