package org.attnkit.ops.reduce;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.attnkit.tensor.Tensor;
import org.attnkit.testing.Compare;
import org.attnkit.ops.shape.StridedOps;
import org.attnkit.testing.HostStridedOps;
import org.attnkit.testing.NativeHostStridedOps;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The general path of {@link ReduceCuda} (reduced dims that are not a leading or trailing run) without a
 * GPU: on a host emulation of the strided-sum and strided-copy kernels' contracts ({@link HostStridedOps}),
 * so the kept/reduced dims and strides and the backward's broadcast strides are checked against the
 * reference, forward and backward, with and without keepDim; and again with the kernels' own element code run
 * on the host ({@link NativeHostStridedOps}) where the JNI library is built.
 */
class ReduceCudaArgumentsTest {
    @ParameterizedTest(name = "{0} of {1} over {2} keepDim={3}")
    @CsvSource({"sum,2x3x4,'1',false", "mean,6x5x7,'1',true", "sum,2x3x4,'0,2',false", "mean,3x4x5x6,'1,3',true",
        "sum,3x4x5x6,'0,2',false", "mean,2x9x3,'1',false", "sum,5x0x3,'1',false", "mean,2x3x4x5x2,'0,2,4',true",
        "sum,1x1x7x1,'1,2',false"})
    void theGeneralPathEqualsTheReference(String op, String shape, String dims, boolean keepDim) {
        int[] s = Arrays.stream(shape.split("x")).mapToInt(Integer::parseInt).toArray();
        int[] d = Arrays.stream(dims.split(",")).mapToInt(Integer::parseInt).toArray();
        boolean[] reduced = new boolean[s.length];
        long count = 1;
        for (int dim : d) {
            reduced[dim] = true;
            count *= s[dim];
        }
        double scale = op.equals("mean") ? 1.0 / count : 1.0;
        Tensor x = Tensor.randn(shape.hashCode(), s);
        HostStridedOps host = new HostStridedOps();
        check(op, x, reduced, keepDim, scale, host);
        assertTrue(x.numel() == 0 || host.calls == 2, "the general path ran: " + host.calls);
        if (NativeHostStridedOps.available()) {
            // The kernels' own element code, run on the host.
            check(op, x, reduced, keepDim, scale, new NativeHostStridedOps());
        }
    }

    private static void check(String op, Tensor x, boolean[] reduced, boolean keepDim, double scale, StridedOps ops) {
        ReduceRef ref = new ReduceRef();
        ReduceCuda cuda = new ReduceCuda(op, ops);
        Tensor y = ref.forward(x, reduced, keepDim, scale);
        Compare.close(op + " forward", y, cuda.forward(x, reduced, keepDim, scale), 1e-7, 1e-6);
        Tensor dy = Tensor.randn(9, y.shape().toArray());
        Compare.close(op + " backward", ref.backward(dy, x.shape().toArray(), reduced, scale),
                cuda.backward(dy, x.shape().toArray(), reduced, scale), 1e-7, 1e-6);
    }
}
