package org.attnkit.ops.layernorm;

import org.attnkit.tensor.Tensor;

/** Scalar reference of {@link LayerNorm}, in double. */
final class LayerNormRef implements LayerNormKernels {
    @Override
    public Forward forward(Tensor x, Tensor gamma, Tensor beta, double eps) {
        int d = x.dim(-1);
        int rows = x.numel() / d;
        double[] xv = x.toDoubleArray();                          // [rows, D]
        double[] gv = gamma == null ? null : gamma.toDoubleArray(); // [D]
        double[] bv = beta == null ? null : beta.toDoubleArray();   // [D]
        double[] y = new double[xv.length];                       // [rows, D]
        double[] mean = new double[rows];
        double[] rstd = new double[rows];
        for (int r = 0; r < rows; r++) {
            int base = r * d;
            double sum = 0;
            for (int j = 0; j < d; j++) {
                sum += xv[base + j];
            }
            double mu = sum / d;
            // Two passes: the variance of centred values does not cancel catastrophically.
            double sq = 0;
            for (int j = 0; j < d; j++) {
                double c = xv[base + j] - mu;
                sq += c * c;
            }
            double rs = 1.0 / Math.sqrt(sq / d + eps);
            mean[r] = mu;
            rstd[r] = rs;
            for (int j = 0; j < d; j++) {
                double v = (xv[base + j] - mu) * rs;
                if (gv != null) {
                    v *= gv[j];
                }
                if (bv != null) {
                    v += bv[j];
                }
                y[base + j] = v;
            }
        }
        return new Forward(Tensor.fromDoubles(y, x.dtype(), x.shape().toArray()),
                Tensor.fromDoubles(mean, x.dtype(), rows), Tensor.fromDoubles(rstd, x.dtype(), rows));
    }

    @Override
    public Tensor[] backward(Tensor x, Tensor gamma, Tensor mean, Tensor rstd, Tensor dy, boolean[] needsGrad) {
        int d = x.dim(-1);
        int rows = x.numel() / d;
        double[] xv = x.toDoubleArray();                          // [rows, D]
        double[] gv = gamma == null ? null : gamma.toDoubleArray(); // [D]
        double[] mu = mean.toDoubleArray();                       // [rows]
        double[] rs = rstd.toDoubleArray();                       // [rows]
        double[] g = dy.toDoubleArray();                          // [rows, D]
        double[] dx = needsGrad[0] ? new double[xv.length] : null;
        double[] dgamma = needsGrad[1] ? new double[d] : null;
        double[] dbeta = needsGrad[2] ? new double[d] : null;
        double[] xhat = new double[d];
        double[] ghat = new double[d];
        for (int r = 0; r < rows; r++) {
            int base = r * d;
            double meanG = 0;
            double meanGx = 0;
            for (int j = 0; j < d; j++) {
                xhat[j] = (xv[base + j] - mu[r]) * rs[r];
                ghat[j] = gv == null ? g[base + j] : gv[j] * g[base + j];
                meanG += ghat[j];
                meanGx += ghat[j] * xhat[j];
                if (dgamma != null) {
                    dgamma[j] += g[base + j] * xhat[j];
                }
                if (dbeta != null) {
                    dbeta[j] += g[base + j];
                }
            }
            if (dx != null) {
                meanG /= d;
                meanGx /= d;
                for (int j = 0; j < d; j++) {
                    dx[base + j] = rs[r] * (ghat[j] - meanG - xhat[j] * meanGx);
                }
            }
        }
        return new Tensor[] {
            dx == null ? null : Tensor.fromDoubles(dx, x.dtype(), x.shape().toArray()),
            dgamma == null ? null : Tensor.fromDoubles(dgamma, x.dtype(), d),
            dbeta == null ? null : Tensor.fromDoubles(dbeta, x.dtype(), d)
        };
    }
}
