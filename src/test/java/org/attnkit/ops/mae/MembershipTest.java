package org.attnkit.ops.mae;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.attnkit.tensor.DType;
import org.attnkit.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

class MembershipTest {
    @Test
    void dropOneIsOnesMinusIdentity() {
        Tensor m = Membership.dropOne(5);
        assertEquals(DType.F32, m.dtype());
        assertArrayEquals(new int[] {5, 5}, m.shape().toArray());
        for (int e = 0; e < 5; e++) {
            for (int h = 0; h < 5; h++) {
                assertEquals(e == h ? 0.0 : 1.0, m.get(e, h));
            }
        }
        assertEquals(4, Membership.headsPerExpert("test", m));
    }

    /** All m-subsets of 0..n-1 in lexicographic order, by recursion (a different method from the code's). */
    static void combinations(int n, int m, int start, List<Integer> prefix, List<List<Integer>> out) {
        if (prefix.size() == m) {
            out.add(new ArrayList<>(prefix));
            return;
        }
        for (int i = start; i < n; i++) {
            prefix.add(i);
            combinations(n, m, i + 1, prefix, out);
            prefix.remove(prefix.size() - 1);
        }
    }

    @Test
    void keepSubsetsListsEveryCombinationInItertoolsOrder() {
        int[][] cases = {{4, 2}, {6, 3}, {5, 1}, {5, 5}, {7, 6}, {1, 1}};
        for (int[] c : cases) {
            List<List<Integer>> expected = new ArrayList<>();
            combinations(c[0], c[1], 0, new ArrayList<>(), expected);
            Tensor m = Membership.keepSubsets(c[0], c[1]);
            assertArrayEquals(new int[] {expected.size(), c[0]}, m.shape().toArray());
            for (int e = 0; e < expected.size(); e++) {
                for (int h = 0; h < c[0]; h++) {
                    assertEquals(expected.get(e).contains(h) ? 1.0 : 0.0, m.get(e, h), "H " + c[0] + " m " + c[1]);
                }
            }
            assertEquals(c[1], Membership.headsPerExpert("test", m));
        }
        // The golden case's keep-two-of-four, spelled out.
        assertArrayEquals(new float[] {1, 1, 0, 0, 1, 0, 1, 0, 1, 0, 0, 1, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0, 1, 1},
                Membership.keepSubsets(4, 2).toArray());
    }

    @Test
    void sampleOneHotDrawsExpertsWithTheGateProbabilities() {
        int rows = 20000;
        double[] probs = {0.1, 0.0, 0.6, 0.3};
        double[] g = new double[rows * 4];
        for (int r = 0; r < rows; r++) {
            System.arraycopy(probs, 0, g, r * 4, 4);
        }
        Tensor gate = Tensor.wrap(g, rows / 4, 4, 4); // per-token shape [B,T,E]
        Tensor s = Membership.sampleOneHot(gate, 42, 7);
        assertArrayEquals(gate.shape().toArray(), s.shape().toArray());
        assertEquals(DType.F64, s.dtype());
        double[] sv = s.toDoubleArray();
        double[] counts = new double[4];
        for (int r = 0; r < rows; r++) {
            double rowSum = 0;
            for (int e = 0; e < 4; e++) {
                assertTrue(sv[r * 4 + e] == 0 || sv[r * 4 + e] == 1);
                rowSum += sv[r * 4 + e];
                counts[e] += sv[r * 4 + e];
            }
            assertEquals(1.0, rowSum);
        }
        assertEquals(0.0, counts[1], "an expert of probability 0 is never drawn");
        for (int e = 0; e < 4; e++) {
            // standard error sqrt(p(1-p)/n) <= 0.0036; 0.015 is about four of them
            assertEquals(probs[e], counts[e] / rows, 0.015, "expert " + e);
        }
    }

    @Test
    void sampleOneHotIsDeterministicPerSeedAndOffset() {
        Tensor gate = HeadMixtureTest.randomGate(5, 64, 4).to(DType.F32);
        assertArrayEquals(Membership.sampleOneHot(gate, 1, 0).toArray(), Membership.sampleOneHot(gate, 1, 0).toArray());
        assertTrue(!java.util.Arrays.equals(Membership.sampleOneHot(gate, 1, 0).toArray(),
                Membership.sampleOneHot(gate, 2, 0).toArray()));
        assertTrue(!java.util.Arrays.equals(Membership.sampleOneHot(gate, 1, 0).toArray(),
                Membership.sampleOneHot(gate, 1, 1).toArray()));
        assertEquals(DType.F32, Membership.sampleOneHot(gate, 1, 0).dtype());
    }

    // ------------------------------------------------------------------ bad input

    static void assertRejected(Executable call, String... fragments) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertTrue(e.getMessage().startsWith("membership: "), e.getMessage());
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "message '" + e.getMessage() + "' lacks '" + f + "'");
        }
    }

    @Test
    void dropOneRejectsFewerThanTwoHeads() {
        assertRejected(() -> Membership.dropOne(1), "dropOne needs heads >= 2", "got 1");
        assertRejected(() -> Membership.dropOne(0), "got 0");
    }

    @Test
    void keepSubsetsRejectsNonPositiveHeads() {
        assertRejected(() -> Membership.keepSubsets(0, 1), "keepSubsets needs heads >= 1", "got 0");
    }

    @Test
    void keepSubsetsRejectsHeadsPerExpertOutOfRange() {
        assertRejected(() -> Membership.keepSubsets(4, 0), "m in [1, 4]", "got 0");
        assertRejected(() -> Membership.keepSubsets(4, 5), "m in [1, 4]", "got 5");
    }

    @Test
    void keepSubsetsRejectsTooManyExperts() {
        assertRejected(() -> Membership.keepSubsets(64, 32), "keepSubsets(64, 32) would make more than 1048576");
    }

    @Test
    void sampleOneHotRejectsNullOrWrongRank() {
        assertRejected(() -> Membership.sampleOneHot(null, 1, 0), "gate must not be null");
        assertRejected(() -> Membership.sampleOneHot(Tensor.ones(4), 1, 0), "gate must have rank 2", "got rank 1");
    }

    @Test
    void sampleOneHotRejectsNegativeOrNonFiniteEntries() {
        assertRejected(() -> Membership.sampleOneHot(Tensor.of(new float[] {0.5f, -0.1f}, 1, 2), 1, 0),
                "finite and >= 0", "got -0.1", "row 0, expert 1");
        assertRejected(() -> Membership.sampleOneHot(Tensor.of(new float[] {Float.NaN, 1}, 1, 2), 1, 0), "got NaN");
        assertRejected(() -> Membership.sampleOneHot(Tensor.of(new float[] {1, Float.POSITIVE_INFINITY}, 1, 2), 1, 0),
                "got Infinity");
    }

    @Test
    void sampleOneHotRejectsRowsWithoutMass() {
        assertRejected(() -> Membership.sampleOneHot(Tensor.of(new float[] {0.5f, 0.5f, 0, 0}, 2, 2), 1, 0),
                "gate row 1 sums to 0.0");
    }
}
