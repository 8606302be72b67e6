package org.attnkit.ops.lightconv;

import org.attnkit.random.DropConnect;
import org.attnkit.tensor.Tensor;

/**
 * The H x K weight math of LightConv that every CPU backend shares, in double: the softmax over K,
 * the HEAD_KERNEL DropConnect mask, and the softmax backward. It is tiny next to the convolution.
 */
final class LightConvWeights {
    private LightConvWeights() {
    }

    /** softmax over K per head (max subtracted), or the raw weights. */
    static double[] normalized(Tensor weight, boolean softmax) {
        double[] w = weight.toDoubleArray();
        if (!softmax) {
            return w;
        }
        int heads = weight.dim(0);
        int kernelSize = weight.dim(1);
        for (int h = 0; h < heads; h++) {
            int row = h * kernelSize;
            double max = Double.NEGATIVE_INFINITY;
            for (int k = 0; k < kernelSize; k++) {
                max = Math.max(max, w[row + k]);
            }
            double sum = 0;
            for (int k = 0; k < kernelSize; k++) {
                w[row + k] = Math.exp(w[row + k] - max);
                sum += w[row + k];
            }
            for (int k = 0; k < kernelSize; k++) {
                w[row + k] /= sum;
            }
        }
        return w;
    }

    /** wn times its HEAD_KERNEL mask factor (wn itself, copied, when DropConnect is off). */
    static double[] headKernelDropped(double[] wn, int heads, int kernelSize, DropConnect drop) {
        double[] wt = wn.clone();
        if (!drop.active()) {
            return wt;
        }
        for (int h = 0; h < heads; h++) {
            for (int k = 0; k < kernelSize; k++) {
                wt[h * kernelSize + k] *= drop.factor(DropConnect.headKernelIndex(h, k, kernelSize));
            }
        }
        return wt;
    }

    /** dW[h,k] = wn[h,k] (dwn[h,k] - sum_j wn[h,j] dwn[h,j]). */
    static double[] softmaxBackward(double[] wn, double[] dwn, int heads, int kernelSize) {
        double[] dw = new double[dwn.length];
        for (int h = 0; h < heads; h++) {
            int row = h * kernelSize;
            double dot = 0;
            for (int k = 0; k < kernelSize; k++) {
                dot += wn[row + k] * dwn[row + k];
            }
            for (int k = 0; k < kernelSize; k++) {
                dw[row + k] = wn[row + k] * (dwn[row + k] - dot);
            }
        }
        return dw;
    }
}
