package org.attnkit.optim;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.attnkit.nn.MixtureOfHeadsBlock;
import org.attnkit.tensor.Tensor;

/**
 * Block coordinate descent for MAE (SPEC 0 and 3.3): the gate parameters and the expert parameters
 * (everything else) are updated in alternating phases, each by its own optimizer. A cycle is
 * {@code gateSteps} G-steps followed by {@code expertSteps} F-steps.
 * <ul>
 *   <li>G-step: only the gates train, through the deterministic mixture; the experts are frozen
 *   ({@code requiresGrad(false)}, so no gradient is even computed for them).</li>
 *   <li>F-step: only the experts train; each MAE layer samples one expert per sequence from its gate
 *   (head e dropped with probability g_e), and the gates are frozen.</li>
 * </ul>
 * Call {@link #begin(long)} before the forward pass of step s and {@link #step()} after backward.
 */
public final class BlockCoordinateDescent {
    /** Which group a step trains. */
    public enum Phase { GATE, EXPERT }

    private final Optimizer gateOptimizer;
    private final Optimizer expertOptimizer;
    private final List<MixtureOfHeadsBlock> layers;
    private final int gateSteps;
    private final int expertSteps;
    private Phase phase;

    public BlockCoordinateDescent(Optimizer gateOptimizer, Optimizer expertOptimizer, List<MixtureOfHeadsBlock> layers,
            int gateSteps, int expertSteps) {
        if (gateSteps < 1 || expertSteps < 1) {
            throw new IllegalArgumentException("BlockCoordinateDescent: gateSteps and expertSteps must be >= 1, got "
                    + gateSteps + " and " + expertSteps);
        }
        this.gateOptimizer = gateOptimizer;
        this.expertOptimizer = expertOptimizer;
        this.layers = List.copyOf(layers);
        this.gateSteps = gateSteps;
        this.expertSteps = expertSteps;
    }

    /** The phase of step s. */
    public Phase phaseOf(long step) {
        return step % (gateSteps + expertSteps) < gateSteps ? Phase.GATE : Phase.EXPERT;
    }

    /** Freezes the group that step s does not train and sets the layers' gate mode; returns the phase. */
    public Phase begin(long step) {
        phase = phaseOf(step);
        boolean gate = phase == Phase.GATE;
        gateOptimizer.parameters().forEach(p -> p.requiresGrad(gate));
        expertOptimizer.parameters().forEach(p -> p.requiresGrad(!gate));
        for (MixtureOfHeadsBlock l : layers) {
            l.setGateMode(gate ? MixtureOfHeadsBlock.GateMode.MIXTURE : MixtureOfHeadsBlock.GateMode.SAMPLED);
        }
        return phase;
    }

    /** Sets the learning-rate multiplier of both optimizers. */
    public void setLrScale(double s) {
        gateOptimizer.setLrScale(s);
        expertOptimizer.setLrScale(s);
    }

    /** Steps the optimizer of the current phase, then clears every gradient. */
    public void step() {
        if (phase == null) {
            throw new IllegalStateException("BlockCoordinateDescent.step() before begin(step)");
        }
        (phase == Phase.GATE ? gateOptimizer : expertOptimizer).step();
        gateOptimizer.zeroGrad();
        expertOptimizer.zeroGrad();
    }

    /** Unfreezes both groups and restores the mixture (for evaluation or joint training afterwards). */
    public void end() {
        gateOptimizer.parameters().forEach(p -> p.requiresGrad(true));
        expertOptimizer.parameters().forEach(p -> p.requiresGrad(true));
        layers.forEach(l -> l.setGateMode(MixtureOfHeadsBlock.GateMode.MIXTURE));
        phase = null;
    }

    /** Both optimizers' states, prefixed {@code gate.} and {@code expert.}. */
    public Map<String, Tensor> state() {
        Map<String, Tensor> s = new LinkedHashMap<>();
        gateOptimizer.state().forEach((k, v) -> s.put("gate." + k, v));
        expertOptimizer.state().forEach((k, v) -> s.put("expert." + k, v));
        return s;
    }

    public void loadState(Map<String, Tensor> s) {
        gateOptimizer.loadState(sub(s, "gate."));
        expertOptimizer.loadState(sub(s, "expert."));
    }

    static Map<String, Tensor> sub(Map<String, Tensor> s, String prefix) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        s.forEach((k, v) -> {
            if (k.startsWith(prefix)) {
                out.put(k.substring(prefix.length()), v);
            }
        });
        return out;
    }
}
