package org.attnkit.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.attnkit.autograd.GradCheck;
import org.junit.jupiter.api.Test;

class TensorTest {
    @Test
    void creationAndAccess() {
        Tensor t = Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
        assertEquals(Shape.of(2, 3), t.shape());
        assertEquals(6.0, t.get(1, 2));
        assertEquals(2.0, t.get(0, 1));
        assertEquals(DType.F32, t.dtype());
        assertEquals(Device.CPU, t.device());
        assertArrayEquals(new float[] {7, 7}, Tensor.full(7f, 2).toArray());
        assertEquals(0.0, Tensor.zeros(3, 0).numel());
        assertEquals(1.0, Tensor.ones(1).item());
    }

    @Test
    void shapeNumelOfARangeIsTheOuterAndInnerSizeAroundAnAxis() {
        Shape s = Shape.of(2, 3, 5, 7);
        assertEquals(1, s.numel(0, 0));
        assertEquals(6, s.numel(0, 2));
        assertEquals(35, s.numel(2, 4));
        assertEquals(7, s.numel(3, 4));
        assertEquals(1, s.numel(4, 4));
        assertEquals(210, s.numel());
        assertEquals(0, Shape.of(4, 0, 3).numel(1, 3));
    }

    @Test
    void seededRandomIsReproducible() {
        assertArrayEquals(Tensor.randn(5, 10).toArray(), Tensor.randn(5, 10).toArray());
        assertNotEquals(Tensor.randn(5, 10).toArray()[0], Tensor.randn(6, 10).toArray()[0]);
        float[] u = Tensor.rand(1, 1000).toArray();
        for (float v : u) {
            assertTrue(v >= 0 && v < 1);
        }
        double mean = 0;
        double var = 0;
        float[] g = Tensor.randn(3, 20000).toArray();
        for (float v : g) {
            mean += v;
        }
        mean /= g.length;
        for (float v : g) {
            var += (v - mean) * (v - mean);
        }
        var /= g.length;
        assertEquals(0, mean, 0.03);
        assertEquals(1, var, 0.05);
    }

    @Test
    void reshapeIsAViewAndInfersMinusOne() {
        Tensor t = Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
        Tensor r = t.reshape(3, -1);
        assertEquals(Shape.of(3, 2), r.shape());
        assertSame(t.data(), r.data());
    }

    @Test
    void transposePermuteSliceConcat() {
        Tensor t = Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
        assertArrayEquals(new float[] {1, 4, 2, 5, 3, 6}, t.transpose(0, 1).toArray());
        Tensor c = Tensor.of(new float[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19,
            20, 21, 22, 23}, 2, 3, 4);
        Tensor p = c.permute(2, 0, 1);
        assertEquals(Shape.of(4, 2, 3), p.shape());
        assertEquals(c.get(1, 2, 3), p.get(3, 1, 2));
        assertArrayEquals(new float[] {2, 3, 5, 6}, t.slice(1, 1, 3).toArray());
        assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6, 1, 2, 3}, Tensor.concat(0, t, t.slice(0, 0, 1)).toArray());
        assertArrayEquals(new float[] {1, 2, 3, 1, 4, 5, 6, 4}, Tensor.concat(1, t, t.slice(1, 0, 1)).toArray());
    }

    @Test
    void shapeOperationsHaveExactGradients() {
        Tensor a = Tensor.randn(1, 2, 3, 4).requiresGrad(true);
        Tensor b = Tensor.randn(2, 2, 1, 4).requiresGrad(true);
        GradCheck.assertGradients(in -> Tensor.concat(1, in[0], in[1]).permute(2, 0, 1).slice(0, 1, 3)
                .reshape(-1).transpose(0, 0), a, b);
    }

    @Test
    void badShapesAreRejectedWithTheValues() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Tensor.of(new float[5], 2, 3));
        assertTrue(e.getMessage().contains("5") && e.getMessage().contains("[2, 3]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Tensor.zeros(2, -1));
        assertTrue(e.getMessage().contains("-1"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Tensor.zeros(2, 3).reshape(4, -1));
        assertTrue(e.getMessage().contains("reshape"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Tensor.zeros(2, 3).slice(1, 2, 5));
        assertTrue(e.getMessage().contains("[2, 5)"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Tensor.zeros(2, 3).permute(0, 0));
        assertTrue(e.getMessage().contains("permutation"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> Tensor.concat(0, Tensor.zeros(2, 3), Tensor.zeros(2, 4)));
        assertTrue(e.getMessage().contains("tensors[1]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> Tensor.concat(0, Tensor.zeros(2, 3), Tensor.zeros(DType.F64, 2, 3)));
        assertTrue(e.getMessage().contains("F64"), e.getMessage());
    }

    @Test
    void deviceParsing() {
        assertEquals(Device.CPU, Device.parse("cpu"));
        assertEquals(Device.cuda(1), Device.parse("cuda:1"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Device.parse("tpu"));
        assertTrue(e.getMessage().contains("tpu"), e.getMessage());
    }

    @Test
    void zerosOnADevice() {
        Tensor z = Tensor.zeros(Device.CPU, 2, 3);
        assertEquals(Device.CPU, z.device());
        assertArrayEquals(new float[6], z.toArray());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Tensor.zeros((Device) null, 2));
        assertTrue(e.getMessage().contains("device"), e.getMessage());
        if (!org.attnkit.backend.cuda.Cuda.isAvailable()) {
            // Where CUDA cannot run, asking for device memory names the reason instead of crashing.
            RuntimeException r = assertThrows(RuntimeException.class, () -> Tensor.zeros(Device.cuda(0), 2));
            assertTrue(r.getMessage().contains("CUDA"), r.getMessage());
        }
    }
}
