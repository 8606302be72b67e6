package org.attnkit.nn;

import java.util.SplittableRandom;
import org.attnkit.ops.lightconv.LightConv;
import org.attnkit.ops.linear.LinearEpilogue;
import org.attnkit.random.DropConnect;
import org.attnkit.tensor.Tensor;

/**
 * The LightConv encoder layer of Wu et al. (SPEC 1.4): Linear d -> 2d, GLU, LightConv with H heads of
 * kernel size K (centered padding, weight softmax, DropConnect in training), Linear d -> d; then the
 * residual, LayerNorm and feed-forward of {@link EncoderLayer}.
 */
public final class LightConvBlock extends EncoderLayer {
    public final int kernelSize;
    private final Linear in;
    private final Linear out;
    private final Tensor weight;
    private final double weightDropout;

    public LightConvBlock(SplittableRandom rng, LayerConfig config, int kernelSize, double weightDropout) {
        super(rng, config);
        if (kernelSize < 1 || kernelSize % 2 == 0) {
            throw new IllegalArgumentException("LightConvBlock: kernelSize must be odd and >= 1 (centered padding), got "
                    + kernelSize);
        }
        this.kernelSize = kernelSize;
        this.weightDropout = weightDropout;
        in = child("in", new Linear(rng, config.dim(), 2 * config.dim(), true));
        weight = parameter("weight", Init.uniform(rng, Math.sqrt(6.0 / (1 + kernelSize)), config.heads(), kernelSize));
        out = child("out", new Linear(rng, config.dim(), config.dim(), true));
    }

    @Override
    protected Tensor mix(Tensor x) {
        DropConnect dc = isTraining() && weightDropout > 0
                ? new DropConnect(weightDropout, config.seed() * 31 + 3, step(), DropConnect.Scope.HEAD_KERNEL)
                : DropConnect.NONE;
        Tensor h = in.forward(x, LinearEpilogue.Activation.GLU); // GLU over the last dim, fused on CUDA
        h = LightConv.apply(h, weight, null, LightConv.Options.centered(kernelSize).withDropConnect(dc));
        return out.forward(h);
    }
}
