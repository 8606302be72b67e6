package org.attnkit.ops.shape;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.SplittableRandom;
import org.attnkit.backend.Backend;
import org.attnkit.backend.Kernels;
import org.attnkit.tensor.Tensor;
import org.attnkit.testing.HostStridedOps;
import org.attnkit.testing.NativeHostStridedOps;
import org.junit.jupiter.api.Test;

/**
 * The CUDA backend of the shape operators without a GPU: {@link ShapeCuda} runs on a host emulation of the
 * strided-copy kernel's contract ({@link HostStridedOps}), so the dims, strides and offsets it computes are
 * checked against the reference on seeded random shapes of ranks 1 to 8 (exact: these are copies); and again
 * with the kernel's own element code run on the host ({@link NativeHostStridedOps}) where the JNI library is built.
 */
class ShapeCudaArgumentsTest {
    private static int[] randomShape(SplittableRandom r, int rank) {
        int[] s = new int[rank];
        for (int d = 0; d < rank; d++) {
            s[d] = 1 + r.nextInt(rank > 4 ? 3 : 6);
        }
        return s;
    }

    @Test
    void permuteSliceAndConcatEqualTheReference() {
        HostStridedOps host = new HostStridedOps();
        run(host);
        assertTrue(host.calls > 600, "the emulated kernel ran: " + host.calls);
    }

    @Test
    void theKernelsElementCodeOnTheHostEqualsTheReference() {
        assumeTrue(NativeHostStridedOps.available(), "the JNI library was not built");
        run(new NativeHostStridedOps());
    }

    private static void run(StridedOps ops) {
        SplittableRandom r = new SplittableRandom(77);
        ShapeRef ref = new ShapeRef();
        ShapeCuda cuda = new ShapeCuda(ops);
        for (int trial = 0; trial < 200; trial++) {
            int rank = 1 + r.nextInt(8);
            int[] shape = randomShape(r, rank);
            Tensor x = Tensor.randn(trial, shape);
            int[] perm = new int[rank];
            for (int i = 0; i < rank; i++) {
                perm[i] = i;
            }
            for (int i = rank - 1; i > 0; i--) {
                int j = r.nextInt(i + 1);
                int t = perm[i];
                perm[i] = perm[j];
                perm[j] = t;
            }
            same("permute " + java.util.Arrays.toString(perm), ref.permute(x, perm), cuda.permute(x, perm));
            int d = r.nextInt(rank);
            int start = r.nextInt(shape[d] + 1);
            int end = start + r.nextInt(shape[d] - start + 1);
            Tensor sRef = ref.slice(x, d, start, end);
            same("slice", sRef, cuda.slice(x, d, start, end));
            same("slice backward", ref.sliceBackward(sRef, shape, d, start), cuda.sliceBackward(sRef, shape, d, start));
            int[] other = shape.clone();
            other[d] = 1 + r.nextInt(4);
            Tensor y = Tensor.randn(trial + 1000, other);
            int[] out = shape.clone();
            out[d] += other[d];
            same("concat", ref.concat(d, new Tensor[] {x, y}, out), cuda.concat(d, new Tensor[] {x, y}, out));
        }
    }

    @Test
    void theShapeOpsHaveACudaBackend() {
        for (Kernels<ShapeKernels> k : java.util.List.of(Permute.KERNELS, Slice.KERNELS, Concat.KERNELS)) {
            assertTrue(k.available().contains(Backend.CUDA) && k.available().contains(Backend.REF), k.op());
        }
    }

    private static void same(String what, Tensor expected, Tensor actual) {
        assertArrayEquals(expected.shape().toArray(), actual.shape().toArray(), what + ": shape");
        assertArrayEquals(expected.toArray(), actual.toArray(), what);
    }
}
