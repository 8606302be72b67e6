package org.attnkit.nn;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.attnkit.autograd.GradMode;
import org.attnkit.ops.mae.GatedAttention;
import org.attnkit.ops.mae.Membership;
import org.attnkit.tensor.Device;
import org.attnkit.tensor.Tensor;

/**
 * MAE, "A Mixture of h-1 Heads is Better than h Heads" (SPEC 0 and 3): multi-head attention whose
 * heads are reweighted by a gated mixture of the H drop-one experts,
 * {@code y = concat_h(alpha_h o_h) Wo} with {@code alpha_h = H/(H-1) (1 - g_h)}, the attention and the
 * reweighting as one {@link GatedAttention}.
 *
 * <p>{@link GateMode} picks how the gate enters: {@code MIXTURE} uses the gate network's output (the
 * G-step of block coordinate descent, and joint training); {@code SAMPLED} samples one expert per
 * sequence from the gate (computed outside the graph, so the gate gets no gradient) with
 * {@link Membership#sampleOneHot}, dropping head e with probability g_e (the F-step); {@code UNIFORM}
 * samples from a uniform gate (UNI-MAE). Samples are keyed by the layer seed and the training step.
 * In evaluation mode the mixture is always used.
 */
public final class MixtureOfHeadsBlock extends EncoderLayer {
    /** How the gate enters the forward pass in training mode. */
    public enum GateMode { MIXTURE, SAMPLED, UNIFORM }

    private final Linear q;
    private final Linear k;
    private final Linear v;
    private final Linear out;
    public final MaeGateNet gate;
    private final Tensor membership;
    private Tensor membershipOnDevice; // a copy on the device of the last non-cpu input, made once
    private GateMode mode = GateMode.MIXTURE;
    private Tensor lastGate;

    public MixtureOfHeadsBlock(SplittableRandom rng, LayerConfig config, int gateHidden) {
        super(rng, config);
        int d = config.dim();
        if (config.heads() < 2) {
            throw new IllegalArgumentException("MixtureOfHeadsBlock: needs at least 2 heads for drop-one experts, got "
                    + config.heads());
        }
        q = child("q", new Linear(rng, d, d, true));
        k = child("k", new Linear(rng, d, d, true));
        v = child("v", new Linear(rng, d, d, true));
        out = child("out", new Linear(rng, d, d, true));
        gate = child("gate", new MaeGateNet(rng, d, gateHidden, config.heads()));
        membership = Membership.dropOne(config.heads());
    }

    public void setGateMode(GateMode m) {
        mode = m;
    }

    public GateMode gateMode() {
        return mode;
    }

    /** The gate {@code [B,E]} of the last forward pass (a detached copy on the host), or null before the first. */
    public Tensor lastGate() {
        return lastGate;
    }

    /** The gate network's parameters: the G-step group. */
    public List<Tensor> gateParameters() {
        return gate.parameters();
    }

    /** Every other parameter of the layer (attention, output projection, norms, feed-forward): the F-step group. */
    public List<Tensor> expertParameters() {
        List<Tensor> all = new ArrayList<>(parameters());
        all.removeAll(gate.parameters());
        return all;
    }

    @Override
    protected Tensor mix(Tensor x) {
        Tensor qx = q.forward(x);
        Tensor kx = k.forward(x);
        Tensor vx = v.forward(x);
        Tensor g;
        GateMode m = isTraining() ? mode : GateMode.MIXTURE;
        if (m == GateMode.MIXTURE) {
            g = gate.forward(x);
            lastGate = hostCopy(g.detach());
        } else {
            Tensor probs;
            try (GradMode.Scope ignored = GradMode.noGrad()) {
                probs = m == GateMode.SAMPLED ? gate.forward(x).detach()
                        : Tensor.full(1f / config.heads(), x.dim(0), config.heads());
            }
            lastGate = hostCopy(probs);
            // Sampling experts is a host decision on B x E numbers: an explicit, small round trip.
            g = Membership.sampleOneHot(lastGate, config.seed() * 31 + 5, step()).to(x.device());
        }
        // One fused op: on CUDA, alpha is applied in the attention epilogue (no extra pass over o); on the
        // CPU it is the same computation as HeadMixture(Attention(...)), bit for bit.
        return out.forward(GatedAttention.apply(qx, kx, vx, config.heads(), false, null, g,
                membershipOn(x.device())));
    }

    /** The fixed membership where the activations are: the op wants all its inputs on one device. */
    private Tensor membershipOn(Device device) {
        if (device.equals(membership.device())) {
            return membership;
        }
        if (membershipOnDevice == null || !membershipOnDevice.device().equals(device)) {
            membershipOnDevice = membership.to(device);
        }
        return membershipOnDevice;
    }
}
