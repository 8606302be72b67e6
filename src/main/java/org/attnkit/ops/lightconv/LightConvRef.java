package org.attnkit.ops.lightconv;

import org.attnkit.random.DropConnect;
import org.attnkit.tensor.Tensor;

/** Scalar reference of {@link LightConv}, in double: the definition other backends are tested against. */
final class LightConvRef implements LightConvKernels {
    @Override
    public Tensor forward(Tensor x, Tensor weight, Tensor bias, LightConv.Options options) {
        int batch = x.dim(0);
        int time = x.dim(1);
        int channels = x.dim(2);
        int heads = weight.dim(0);
        int kernelSize = weight.dim(1);
        int perHead = channels / heads;
        int pad = options.paddingLeft();
        DropConnect drop = options.dropConnect();
        boolean perPosition = drop.active() && drop.scope() == DropConnect.Scope.POSITION;
        double[] xv = x.toDoubleArray();
        double[] wn = LightConvWeights.normalized(weight, options.weightSoftmax()); // [H,K]
        double[] wt = perPosition ? wn : LightConvWeights.headKernelDropped(wn, heads, kernelSize, drop); // [H,K]
        double[] bv = bias == null ? null : bias.toDoubleArray();
        double[] y = new double[xv.length]; // [B,T,C]
        for (int b = 0; b < batch; b++) {
            for (int t = 0; t < time; t++) {
                for (int c = 0; c < channels; c++) {
                    int h = c / perHead;
                    double acc = bv == null ? 0 : bv[c];
                    for (int k = 0; k < kernelSize; k++) {
                        int src = t + k - pad;
                        if (src < 0 || src >= time) {
                            continue;
                        }
                        double w = wt[h * kernelSize + k];
                        if (perPosition) {
                            w *= drop.factor(DropConnect.positionIndex(b, t, h, k, time, heads, kernelSize));
                        }
                        acc += w * xv[(b * time + src) * channels + c];
                    }
                    y[(b * time + t) * channels + c] = acc;
                }
            }
        }
        return Tensor.fromDoubles(y, x.dtype(), batch, time, channels);
    }

    @Override
    public Tensor[] backward(Tensor dy, Tensor x, Tensor weight, boolean hasBias, LightConv.Options options,
            boolean[] needsGrad) {
        int batch = x.dim(0);
        int time = x.dim(1);
        int channels = x.dim(2);
        int heads = weight.dim(0);
        int kernelSize = weight.dim(1);
        int perHead = channels / heads;
        int pad = options.paddingLeft();
        DropConnect drop = options.dropConnect();
        boolean perPosition = drop.active() && drop.scope() == DropConnect.Scope.POSITION;
        double[] g = dy.toDoubleArray(); // [B,T,C]
        double[] xv = x.toDoubleArray(); // [B,T,C]
        double[] wn = LightConvWeights.normalized(weight, options.weightSoftmax()); // [H,K]
        double[] wt = perPosition ? wn : LightConvWeights.headKernelDropped(wn, heads, kernelSize, drop); // [H,K]
        Tensor[] grads = new Tensor[3];

        if (needsGrad[0]) {
            // dx[b,s,c] = sum_k wt[b,s-k+P,h,k] dy[b,s-k+P,c]: the forward with the filter reversed,
            // written as a scatter from each output position so POSITION masks stay indexed by t.
            double[] dx = new double[xv.length];
            for (int b = 0; b < batch; b++) {
                for (int t = 0; t < time; t++) {
                    for (int c = 0; c < channels; c++) {
                        int h = c / perHead;
                        double gy = g[(b * time + t) * channels + c];
                        for (int k = 0; k < kernelSize; k++) {
                            int src = t + k - pad;
                            if (src < 0 || src >= time) {
                                continue;
                            }
                            double w = wt[h * kernelSize + k];
                            if (perPosition) {
                                w *= drop.factor(DropConnect.positionIndex(b, t, h, k, time, heads, kernelSize));
                            }
                            dx[(b * time + src) * channels + c] += w * gy;
                        }
                    }
                }
            }
            grads[0] = Tensor.fromDoubles(dx, x.dtype(), batch, time, channels);
        }

        if (needsGrad[1]) {
            // dwn[h,k] = sum_{b,t,c in h} dy[b,t,c] x[b,t+k-P,c] * mask factor, the gradient of the
            // normalized weights through DropConnect.
            double[] dwn = new double[heads * kernelSize]; // [H,K]
            for (int b = 0; b < batch; b++) {
                for (int t = 0; t < time; t++) {
                    for (int h = 0; h < heads; h++) {
                        for (int k = 0; k < kernelSize; k++) {
                            int src = t + k - pad;
                            if (src < 0 || src >= time) {
                                continue;
                            }
                            double acc = 0;
                            for (int r = 0; r < perHead; r++) {
                                int c = h * perHead + r;
                                acc += g[(b * time + t) * channels + c] * xv[(b * time + src) * channels + c];
                            }
                            double f = perPosition
                                    ? drop.factor(DropConnect.positionIndex(b, t, h, k, time, heads, kernelSize))
                                    : drop.factor(DropConnect.headKernelIndex(h, k, kernelSize));
                            dwn[h * kernelSize + k] += acc * f;
                        }
                    }
                }
            }
            double[] dw = options.weightSoftmax() ? LightConvWeights.softmaxBackward(wn, dwn, heads, kernelSize) : dwn;
            grads[1] = Tensor.fromDoubles(dw, weight.dtype(), heads, kernelSize);
        }

        if (hasBias && needsGrad.length > 2 && needsGrad[2]) {
            double[] db = new double[channels];
            for (int i = 0; i < g.length; i++) {
                db[i % channels] += g[i];
            }
            grads[2] = Tensor.fromDoubles(db, dy.dtype(), channels);
        }
        return grads;
    }
}
