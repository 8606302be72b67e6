package org.attnkit.random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class PhiloxTest {
    /** Known-answer vectors of philox4x32-10 published with Random123 (kat_vectors). */
    @Test
    void matchesRandom123KnownAnswers() {
        assertArrayEquals(new int[] {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8},
                Philox.block(0, 0, 0, 0, 0, 0));
        assertArrayEquals(new int[] {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd},
                Philox.block(-1, -1, -1, -1, -1, -1));
        assertArrayEquals(new int[] {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1},
                Philox.block(0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0));
    }

    @Test
    void elementWordIsTheLaneOfItsBlock() {
        long seed = 0x1234_5678_9abcL;
        long offset = 77;
        int[] block = Philox.block(2, 0, 77, 0, 0x5678_9abc, 0x1234);
        for (int lane = 0; lane < 4; lane++) {
            assertEquals(block[lane], Philox.word(seed, offset, 8 + lane));
        }
    }

    @Test
    void uniformsAreInUnitIntervalWithTheRightMean() {
        double sum = 0;
        int n = 200_000;
        int dropped = 0;
        for (int i = 0; i < n; i++) {
            float u = Philox.uniform(42, 3, i);
            assertTrue(u >= 0 && u < 1, "uniform out of range: " + u);
            sum += u;
            if (!Philox.keep(42, 3, i, 0.3)) {
                dropped++;
            }
        }
        assertEquals(0.5, sum / n, 0.005);
        assertEquals(0.3, dropped / (double) n, 0.005);
    }

    @Test
    void dropConnectRejectsBadProbability() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new DropConnect(1.0, 1, 0, DropConnect.Scope.POSITION));
        assertTrue(e.getMessage().contains("p must be in [0, 1)"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new DropConnect(Double.NaN, 1, 0, DropConnect.Scope.POSITION));
        assertThrows(IllegalArgumentException.class, () -> new DropConnect(0.1, 1, 0, null));
    }

    @Test
    void dropConnectFactorIsZeroOrScale() {
        DropConnect dc = new DropConnect(0.25, 9, 1, DropConnect.Scope.HEAD_KERNEL);
        for (int i = 0; i < 1000; i++) {
            double f = dc.factor(i);
            assertTrue(f == 0.0 || f == 1.0 / 0.75, "factor " + f);
        }
        assertEquals(1.0, DropConnect.NONE.factor(5));
    }
}
