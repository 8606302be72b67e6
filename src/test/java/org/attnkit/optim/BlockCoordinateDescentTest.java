package org.attnkit.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.attnkit.nn.LayerConfig;
import org.attnkit.nn.MixerType;
import org.attnkit.nn.MixtureOfHeadsBlock;
import org.attnkit.nn.TokenClassifier;
import org.attnkit.ops.loss.CrossEntropy;
import org.attnkit.tensor.Tensor;
import org.junit.jupiter.api.Test;

class BlockCoordinateDescentTest {
    private static float[][] snapshot(List<Tensor> ps) {
        float[][] s = new float[ps.size()][];
        for (int i = 0; i < s.length; i++) {
            s[i] = ps.get(i).data().clone();
        }
        return s;
    }

    private static boolean anyChanged(float[][] before, List<Tensor> ps) {
        for (int i = 0; i < before.length; i++) {
            if (!java.util.Arrays.equals(before[i], ps.get(i).data())) {
                return true;
            }
        }
        return false;
    }

    @Test
    void eachPhaseChangesOnlyItsGroupBitForBit() {
        int b = 3;
        int t = 5;
        int vocab = 6;
        TokenClassifier model = new TokenClassifier(new SplittableRandom(4), MixerType.MAE, vocab, vocab,
                new LayerConfig(8, 16, 4, true, 0, 9), new int[] {3, 3}, true, false);
        List<MixtureOfHeadsBlock> layers = model.maeLayers();
        assertEquals(2, layers.size());
        List<Tensor> gate = new ArrayList<>();
        layers.forEach(l -> gate.addAll(l.gateParameters()));
        List<Tensor> experts = new ArrayList<>(model.parameters());
        experts.removeAll(gate);
        assertEquals(model.parameters().size(), gate.size() + experts.size());
        BlockCoordinateDescent bcd = new BlockCoordinateDescent(Adam.of(gate, 0.05), Adam.of(experts, 0.05), layers, 1, 2);
        SplittableRandom r = new SplittableRandom(1);
        int[] ids = new int[b * t];
        int[] targets = new int[b * t];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = r.nextInt(vocab);
            targets[i] = r.nextInt(vocab);
        }
        BlockCoordinateDescent.Phase[] expected = {BlockCoordinateDescent.Phase.GATE,
            BlockCoordinateDescent.Phase.EXPERT, BlockCoordinateDescent.Phase.EXPERT, BlockCoordinateDescent.Phase.GATE};
        for (int step = 0; step < expected.length; step++) {
            assertEquals(expected[step], bcd.phaseOf(step));
            float[][] g0 = snapshot(gate);
            float[][] e0 = snapshot(experts);
            model.setStep(step);
            BlockCoordinateDescent.Phase phase = bcd.begin(step);
            for (MixtureOfHeadsBlock l : layers) {
                assertEquals(phase == BlockCoordinateDescent.Phase.GATE ? MixtureOfHeadsBlock.GateMode.MIXTURE
                        : MixtureOfHeadsBlock.GateMode.SAMPLED, l.gateMode());
            }
            Tensor logits = model.forward(ids, b, t);
            CrossEntropy.apply(logits.reshape(b * t, vocab), targets).backward();
            bcd.step();
            if (phase == BlockCoordinateDescent.Phase.GATE) {
                for (int i = 0; i < e0.length; i++) {
                    assertArrayEquals(e0[i], experts.get(i).data(), "expert parameter " + i + " moved in a G-step");
                }
                assertTrue(anyChanged(g0, gate), "a G-step must move the gate");
            } else {
                for (int i = 0; i < g0.length; i++) {
                    assertArrayEquals(g0[i], gate.get(i).data(), "gate parameter " + i + " moved in an F-step");
                }
                assertTrue(anyChanged(e0, experts), "an F-step must move the experts");
                // The sampled gate is one-hot per sequence: alpha drops exactly one head.
                Tensor g = layers.get(0).lastGate();
                assertNotNull(g);
            }
            model.parameters().forEach(p -> assertTrue(p.grad() == null, "gradients are cleared after a step"));
        }
        bcd.end();
        model.parameters().forEach(p -> assertTrue(p.requiresGrad()));
        layers.forEach(l -> assertEquals(MixtureOfHeadsBlock.GateMode.MIXTURE, l.gateMode()));
    }

    @Test
    void rejectsEmptyPhases() {
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> new BlockCoordinateDescent(null, null, List.of(), 0, 1));
        assertTrue(e.getMessage().contains("gateSteps") && e.getMessage().contains("0"), e.getMessage());
        assertFalse(e.getMessage().isEmpty());
    }
}
