package org.attnkit.nn;

import java.util.SplittableRandom;
import org.attnkit.ops.dynamicconv.DynamicConv;
import org.attnkit.ops.linear.LinearEpilogue;
import org.attnkit.random.DropConnect;
import org.attnkit.tensor.Tensor;

/**
 * The DynamicConv encoder layer of Wu et al. (SPEC 1.4 and 2): as {@link LightConvBlock}, with the
 * kernels generated per time step by a bias-free Linear d -> H*K of the GLU output (softmax over all K
 * taps, DropConnect per position in training).
 */
public final class DynamicConvBlock extends EncoderLayer {
    public final int kernelSize;
    private final Linear in;
    private final Linear out;
    private final Tensor weight;
    private final double weightDropout;

    public DynamicConvBlock(SplittableRandom rng, LayerConfig config, int kernelSize, double weightDropout) {
        super(rng, config);
        if (kernelSize < 1 || kernelSize % 2 == 0) {
            throw new IllegalArgumentException("DynamicConvBlock: kernelSize must be odd and >= 1 (centered padding), got "
                    + kernelSize);
        }
        this.kernelSize = kernelSize;
        this.weightDropout = weightDropout;
        in = child("in", new Linear(rng, config.dim(), 2 * config.dim(), true));
        weight = parameter("weight", Init.xavier(rng, config.heads() * kernelSize, config.dim()));
        out = child("out", new Linear(rng, config.dim(), config.dim(), true));
    }

    @Override
    protected Tensor mix(Tensor x) {
        DropConnect dc = isTraining() && weightDropout > 0
                ? new DropConnect(weightDropout, config.seed() * 31 + 3, step(), DropConnect.Scope.POSITION)
                : DropConnect.NONE;
        Tensor h = in.forward(x, LinearEpilogue.Activation.GLU); // GLU over the last dim, fused on CUDA
        h = DynamicConv.apply(h, null, weight, null, config.heads(),
                DynamicConv.Options.centered(kernelSize).withDropConnect(dc));
        return out.forward(h);
    }
}
