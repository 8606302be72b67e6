package org.attnkit.ops.embedding;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.attnkit.autograd.GradCheck;
import org.attnkit.tensor.DType;
import org.attnkit.tensor.Tensor;
import org.junit.jupiter.api.Test;

class EmbeddingTest {
    @Test
    void outputRowsAreTheTableRowsOfTheIds() {
        Tensor table = Tensor.randn(1, 5, 3);
        int[] ids = {4, 0, 2, 2, 1, 4};
        Tensor y = Embedding.apply(ids, new int[] {2, 3}, table);
        assertArrayEquals(new int[] {2, 3, 3}, y.shape().toArray());
        for (int b = 0; b < 2; b++) {
            for (int t = 0; t < 3; t++) {
                for (int j = 0; j < 3; j++) {
                    assertEquals(table.get(ids[b * 3 + t], j), y.get(b, t, j));
                }
            }
        }
    }

    @Test
    void flatIdsGiveRowsOfD() {
        Tensor table = Tensor.randn(2, 4, 6);
        Tensor y = Embedding.apply(new int[] {3, 1}, table);
        assertArrayEquals(new int[] {2, 6}, y.shape().toArray());
        assertArrayEquals(table.slice(0, 3, 4).toArray(), y.slice(0, 0, 1).toArray());
        assertArrayEquals(table.slice(0, 1, 2).toArray(), y.slice(0, 1, 2).toArray());
    }

    @Test
    void emptyIdsShapeLooksUpOneId() {
        Tensor table = Tensor.randn(3, 4, 2);
        Tensor y = Embedding.apply(new int[] {2}, new int[0], table);
        assertArrayEquals(new int[] {2}, y.shape().toArray());
        assertArrayEquals(new float[] {(float) table.get(2, 0), (float) table.get(2, 1)}, y.toArray());
    }

    @Test
    void noIdsGiveAnEmptyOutputAndZeroGradient() {
        Tensor table = Tensor.randn(4, 3, 2).requiresGrad(true);
        Tensor y = Embedding.apply(new int[0], new int[] {2, 0}, table);
        assertArrayEquals(new int[] {2, 0, 2}, y.shape().toArray());
        y.backward(Tensor.zeros(2, 0, 2));
        assertArrayEquals(new float[6], table.grad().toArray());
    }

    @Test
    void repeatedIdsAccumulateTheirGradients() {
        Tensor table = Tensor.zeros(3, 2).requiresGrad(true);
        Tensor dy = Tensor.of(new float[] {1, 10, 2, 20, 5, 50, 3, 30}, 4, 2);
        Embedding.apply(new int[] {1, 1, 0, 1}, table).backward(dy);
        assertArrayEquals(new float[] {5, 50, 6, 60, 0, 0}, table.grad().toArray());
    }

    @Test
    void scatterAddMatchesDirectSumPerRow() {
        Tensor table = Tensor.randn(5, 6, 4).requiresGrad(true);
        int[] ids = {5, 2, 2, 0, 5, 5, 3, 2};
        Tensor dy = Tensor.randn(6, 2, 4, 4);
        Embedding.apply(ids, new int[] {2, 4}, table).backward(dy);
        double[] g = dy.toDoubleArray();
        double[] expected = new double[6 * 4];
        for (int v = 0; v < 6; v++) {
            for (int i = 0; i < ids.length; i++) {
                if (ids[i] == v) {
                    for (int j = 0; j < 4; j++) {
                        expected[v * 4 + j] += g[i * 4 + j];
                    }
                }
            }
        }
        float[] actual = table.grad().toArray();
        for (int k = 0; k < expected.length; k++) {
            assertEquals(expected[k], actual[k], 1e-6);
        }
    }

    @Test
    void backwardUsesIdsAsTheyWereAtForward() {
        Tensor table = Tensor.zeros(2, 1).requiresGrad(true);
        int[] ids = {0};
        Tensor y = Embedding.apply(ids, table);
        ids[0] = 1;
        y.backward(Tensor.ones(1, 1));
        assertArrayEquals(new float[] {1, 0}, table.grad().toArray());
    }

    @Test
    void f64TableGivesF64Output() {
        assertEquals(DType.F64, Embedding.apply(new int[] {0}, Tensor.randn(7, 2, 3).to(DType.F64)).dtype());
    }

    @Test
    void gradientWithRepeatedAndUnusedIds() {
        GradCheck.assertGradients(in -> Embedding.apply(new int[] {3, 0, 3, 3, 1, 0}, new int[] {3, 2}, in[0]),
                Tensor.randn(8, 5, 3).requiresGrad(true));
    }

    @Test
    void rejectsNullTable() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Embedding.apply(new int[] {0}, null));
        assertTrue(e.getMessage().contains("embedding: table must not be null"), e.getMessage());
    }

    @Test
    void rejectsTableOfRankOne() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Embedding.apply(new int[] {0}, Tensor.zeros(4)));
        assertTrue(e.getMessage().contains("table must have rank 2 [V, D], got rank 1"), e.getMessage());
    }

    @Test
    void rejectsNullIds() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Embedding.apply(null, Tensor.zeros(4, 2)));
        assertTrue(e.getMessage().contains("embedding: ids must not be null"), e.getMessage());
    }

    @Test
    void rejectsNullIdsShape() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Embedding.apply(new int[] {0}, null, Tensor.zeros(4, 2)));
        assertTrue(e.getMessage().contains("embedding: idsShape must not be null"), e.getMessage());
    }

    @Test
    void rejectsNegativeIdsShapeDimension() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Embedding.apply(new int[0], new int[] {2, -1}, Tensor.zeros(4, 2)));
        assertTrue(e.getMessage().contains("idsShape dimension 1 must be >= 0, got -1"), e.getMessage());
    }

    @Test
    void rejectsIdsShapeThatDoesNotMatchTheIdCount() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Embedding.apply(new int[] {0, 1, 2}, new int[] {2, 2}, Tensor.zeros(4, 2)));
        assertTrue(e.getMessage().contains("idsShape [2, 2] holds 4 ids but ids has length 3"), e.getMessage());
    }

    @Test
    void rejectsIdAtOrPastVocabulary() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Embedding.apply(new int[] {0, 3, 4}, Tensor.zeros(4, 2)));
        assertTrue(e.getMessage().contains("ids[2] = 4 is out of range [0, 4)"), e.getMessage());
    }

    @Test
    void rejectsNegativeId() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Embedding.apply(new int[] {-1, 0}, Tensor.zeros(4, 2)));
        assertTrue(e.getMessage().contains("ids[0] = -1 is out of range [0, 4)"), e.getMessage());
    }
}
