package org.attnkit.train;

import java.util.List;
import java.util.Map;
import org.attnkit.optim.BlockCoordinateDescent;
import org.attnkit.optim.Optimizer;
import org.attnkit.tensor.Tensor;

/** How the {@link Trainer} updates parameters: one optimizer, or MAE's block coordinate descent. */
public interface Updater {
    /** Called before the forward pass of {@code step}. */
    void begin(long step);

    void setLrScale(double s);

    /** Updates from the accumulated gradients and clears them. */
    void step();

    /** The parameters whose gradients are clipped. */
    List<Tensor> parameters();

    Map<String, Tensor> state();

    void loadState(Map<String, Tensor> s);

    /** Joint training: every step updates every parameter. */
    static Updater of(Optimizer o) {
        return new Updater() {
            @Override
            public void begin(long step) {
            }

            @Override
            public void setLrScale(double s) {
                o.setLrScale(s);
            }

            @Override
            public void step() {
                o.step();
                o.zeroGrad();
            }

            @Override
            public List<Tensor> parameters() {
                return o.parameters();
            }

            @Override
            public Map<String, Tensor> state() {
                return o.state();
            }

            @Override
            public void loadState(Map<String, Tensor> s) {
                o.loadState(s);
            }
        };
    }

    /** Block coordinate descent over the given parameters (gate and expert groups together). */
    static Updater of(BlockCoordinateDescent bcd, List<Tensor> all) {
        return new Updater() {
            @Override
            public void begin(long step) {
                bcd.begin(step);
            }

            @Override
            public void setLrScale(double s) {
                bcd.setLrScale(s);
            }

            @Override
            public void step() {
                bcd.step();
            }

            @Override
            public List<Tensor> parameters() {
                return all;
            }

            @Override
            public Map<String, Tensor> state() {
                return bcd.state();
            }

            @Override
            public void loadState(Map<String, Tensor> s) {
                bcd.loadState(s);
            }
        };
    }
}
