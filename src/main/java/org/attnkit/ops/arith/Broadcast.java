package org.attnkit.ops.arith;

import java.util.Arrays;
import org.attnkit.tensor.Tensor;

/** NumPy broadcasting rules, shared by the elementwise binary operators. */
final class Broadcast {
    private Broadcast() {
    }

    /**
     * The broadcast shape of a and b: trailing dimensions are aligned, and a pair of sizes is
     * compatible when they are equal or one of them is 1. The ranks may differ (missing leading
     * dimensions count as 1).
     *
     * @throws IllegalArgumentException naming both shapes when they do not broadcast
     */
    static int[] shape(String op, Tensor a, Tensor b) {
        int[] sa = a.shape().toArray();
        int[] sb = b.shape().toArray();
        int rank = Math.max(sa.length, sb.length);
        int[] out = new int[rank];
        for (int i = 0; i < rank; i++) {
            int da = i < rank - sa.length ? 1 : sa[i - (rank - sa.length)];
            int db = i < rank - sb.length ? 1 : sb[i - (rank - sb.length)];
            if (da != db && da != 1 && db != 1) {
                throw new IllegalArgumentException(op + ": shapes of a " + Arrays.toString(sa) + " and b "
                        + Arrays.toString(sb) + " do not broadcast: sizes " + da + " and " + db
                        + " differ at output dim " + i + " and neither is 1");
            }
            out[i] = da == 1 ? db : da;
        }
        return out;
    }

    /**
     * For every element of the output (row-major), the flat index of the input element it reads:
     * broadcast dimensions (size 1, or missing from the input's rank) contribute stride 0.
     */
    static int[] sourceIndex(int[] inShape, int[] outShape) {
        int rank = outShape.length;
        int offset = rank - inShape.length;
        int[] inStride = new int[rank];
        int acc = 1;
        for (int i = rank - 1; i >= offset; i--) {
            int size = inShape[i - offset];
            inStride[i] = size == 1 ? 0 : acc;
            acc *= size;
        }
        int n = 1;
        for (int d : outShape) {
            n *= d;
        }
        int[] index = new int[n];
        int[] coord = new int[rank]; // odometer over the output coordinates
        int src = 0;
        for (int i = 0; i < n; i++) {
            index[i] = src;
            for (int d = rank - 1; d >= 0; d--) {
                coord[d]++;
                src += inStride[d];
                if (coord[d] < outShape[d]) {
                    break;
                }
                src -= inStride[d] * coord[d];
                coord[d] = 0;
            }
        }
        return index;
    }
}
