package org.attnkit.ops.arith;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.attnkit.tensor.Tensor;
import org.attnkit.testing.Compare;
import org.attnkit.ops.shape.StridedOps;
import org.attnkit.testing.HostStridedOps;
import org.attnkit.testing.NativeHostStridedOps;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The general broadcast path of {@link BinaryCuda} without a GPU: it runs on a host emulation of the
 * broadcast and strided-sum kernels' contracts ({@link HostStridedOps}), so its read strides, the operand
 * order of each gradient product and the dims each gradient is summed over are checked against the
 * reference, forward and both gradients; and again with the kernels' own element code run on the host
 * ({@link NativeHostStridedOps}) where the JNI library is built.
 */
class BinaryCudaArgumentsTest {
    private static int[] parse(String s) {
        if (s.equals("scalar")) {
            return new int[0];
        }
        return java.util.Arrays.stream(s.split("x")).mapToInt(Integer::parseInt).toArray();
    }

    @ParameterizedTest(name = "{0} a={1} b={2}")
    @CsvSource({"sub,2x3,2x3", "div,2x3,2x3", "add,4x3,4x1", "mul,4x3,4x1", "sub,4x3,4x1", "div,4x3,4x1",
        "add,2x1x3,2x5x3", "mul,2x1x3,2x5x3", "sub,3,2x3", "div,3,2x3", "sub,5x1x4,1x6x1", "div,5x1x4,1x6x1",
        "mul,2x3,scalar", "div,scalar,2x3", "sub,1x1,1x1", "add,7x1x1x2,3x1", "div,6x5,5", "mul,1,3x1x2",
        "sub,2x0x3,1x3", "div,2x1x1x1x1x1x3x2,4x1x2"})
    void theGeneralPathEqualsTheReference(String op, String sa, String sb) {
        Tensor a = Tensor.randn(sa.hashCode(), parse(sa));
        Tensor b = Tensor.randn(sb.hashCode() + 1, parse(sb));
        if (op.equals("div")) {
            float[] v = b.data();
            for (int i = 0; i < v.length; i++) {
                v[i] = v[i] >= 0 ? v[i] + 0.5f : v[i] - 0.5f;
            }
        }
        BinaryRef ref = switch (op) {
            case "add" -> new AddRef();
            case "sub" -> new SubRef();
            case "mul" -> new MulRef();
            default -> new DivRef();
        };
        int code = switch (op) {
            case "add" -> BinaryCuda.ADD;
            case "sub" -> BinaryCuda.SUB;
            case "mul" -> BinaryCuda.MUL;
            default -> BinaryCuda.DIV;
        };
        HostStridedOps host = new HostStridedOps();
        check(op, code, ref, a, b, host);
        assertTrue(a.numel() * b.numel() == 0 || host.calls >= 3, "the general path ran: " + host.calls);
        if (NativeHostStridedOps.available()) {
            // The kernels' own element code, run on the host.
            check(op, code, ref, a, b, new NativeHostStridedOps());
        }
    }

    private static void check(String op, int code, BinaryRef ref, Tensor a, Tensor b, StridedOps ops) {
        BinaryCuda cuda = new BinaryCuda(op, code, ops);
        Tensor c = ref.forward(a, b);
        Compare.close(op + " forward", c, cuda.forward(a, b), 1e-7, 1e-6);
        Tensor dc = Tensor.randn(5, c.shape().toArray());
        Tensor[] gRef = ref.backward(a, b, dc, new boolean[] {true, true});
        Tensor[] gCuda = cuda.backward(a, b, dc, new boolean[] {true, true});
        Compare.close(op + " da", gRef[0], gCuda[0], 1e-6, 1e-5);
        Compare.close(op + " db", gRef[1], gCuda[1], 1e-6, 1e-5);
    }
}
