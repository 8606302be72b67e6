package org.attnkit.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.attnkit.tensor.Tensor;
import org.junit.jupiter.api.Test;

class ModuleTest {
    private static TokenClassifier model(long seed) {
        return new TokenClassifier(new SplittableRandom(seed), MixerType.DYNAMICCONV, 9, 4,
                new LayerConfig(8, 16, 2, true, 0, 1), new int[] {3, 5}, true, true);
    }

    @Test
    void stateDictRoundTripRestoresEveryParameter() {
        TokenClassifier a = model(1);
        TokenClassifier b = model(2);
        int[] ids = {1, 2, 3, 4, 5, 6, 7, 8};
        assertFalse(Arrays.equals(a.forward(ids, 2, 4).toArray(), b.forward(ids, 2, 4).toArray()));
        Map<String, Tensor> state = a.stateDict();
        assertEquals(a.namedParameters().keySet(), state.keySet());
        assertTrue(state.containsKey("encoder.1.weight") && state.containsKey("head.bias"), state.keySet().toString());
        b.loadStateDict(state);
        assertArrayEquals(a.forward(ids, 2, 4).toArray(), b.forward(ids, 2, 4).toArray());
        long count = 0;
        for (Tensor t : a.parameters()) {
            count += t.numel();
            assertTrue(t.requiresGrad() && t.isLeaf());
        }
        assertEquals(count, a.parameterCount());
    }

    @Test
    void loadStateDictRejectsMissingExtraAndMisshapenEntries() {
        TokenClassifier a = model(1);
        Map<String, Tensor> missing = new LinkedHashMap<>(a.stateDict());
        missing.remove("head.bias");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> a.loadStateDict(missing));
        assertTrue(e.getMessage().contains("missing") && e.getMessage().contains("head.bias"), e.getMessage());
        Map<String, Tensor> extra = new LinkedHashMap<>(a.stateDict());
        extra.put("head.scale", Tensor.zeros(4));
        e = assertThrows(IllegalArgumentException.class, () -> a.loadStateDict(extra));
        assertTrue(e.getMessage().contains("unexpected") && e.getMessage().contains("head.scale"), e.getMessage());
        Map<String, Tensor> shape = new LinkedHashMap<>(a.stateDict());
        shape.put("head.bias", Tensor.zeros(5));
        e = assertThrows(IllegalArgumentException.class, () -> a.loadStateDict(shape));
        assertTrue(e.getMessage().contains("head.bias") && e.getMessage().contains("[5]"), e.getMessage());
    }

    @Test
    void dropoutIsKeyedByStepAndOffInEvaluation() {
        Dropout d = new Dropout(0.5, 42);
        Tensor x = Tensor.ones(64);
        d.setStep(3);
        float[] s3 = d.forward(x).toArray();
        assertArrayEquals(s3, d.forward(x).toArray());
        d.setStep(4);
        assertFalse(Arrays.equals(s3, d.forward(x).toArray()));
        d.train(false);
        assertSame(x, d.forward(x));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Dropout(1.0, 1));
        assertTrue(e.getMessage().contains("p") && e.getMessage().contains("1.0"), e.getMessage());
    }

    @Test
    void registrationRejectsDuplicateAndDottedNames() {
        Module m = new Module() {
            {
                parameter("w", Tensor.zeros(2));
            }
        };
        assertEquals(List.of("w"), List.copyOf(m.namedParameters().keySet()));
        Module dup = new Module() {
        };
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Module() {
            {
                parameter("w", Tensor.zeros(2));
                parameter("w", Tensor.zeros(2));
            }
        });
        assertTrue(e.getMessage().contains("'w'"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new Module() {
            {
                child("a.b", dup);
            }
        });
        assertTrue(e.getMessage().contains("a.b"), e.getMessage());
    }
}
