package org.attnkit.ops.embedding;

import static org.attnkit.backend.cuda.CudaTensors.address;

import org.attnkit.backend.cuda.AttnkitNative;
import org.attnkit.backend.cuda.Cuda;
import org.attnkit.backend.cuda.CudaTensors;
import org.attnkit.backend.cuda.NativeCalls;
import org.attnkit.tensor.Device;
import org.attnkit.tensor.Tensor;

/**
 * {@link Embedding} on CUDA ({@code cuda/pointwise.cu}). The host ids travel to the device per call as
 * the bit patterns of floats (exact for non-negative ints below 2^30). Backward is deterministic without
 * atomics: a stable counting sort of the ids on the host gives, per table row, the positions that use it
 * in increasing order, and the device sums dy over them in that order (the interface's index order).
 * Tables or id counts above 2^30 throw UnsupportedOperationException before availability is asked.
 * The native library is touched only after {@link Cuda#requireAvailable} passed. Compiled and verified on an H200
 * (2026-12-04: the CUDA equivalence tests pass).
 */
final class EmbeddingCuda implements EmbeddingKernels {
    static final int MAX = 1 << 30;
    private static final String OP = "embedding";

    @Override
    public Tensor forward(int[] ids, Tensor table, int[] outShape) {
        supported(ids.length, table.dim(0));
        Cuda.requireAvailable(OP + " forward");
        Device device = table.device();
        Tensor out = CudaTensors.empty(device, outShape);
        if (out.numel() == 0) {
            return out;
        }
        Tensor idsOnDevice = upload(ids, device);
        try {
            CudaTensors.enter(device);
            NativeCalls.check(OP + " forward", AttnkitNative.attnkit_embedding_forward(address(out, "out"),
                    address(table, "table"), address(idsOnDevice, "ids"), ids.length, table.dim(0), table.dim(1)));
        } finally {
            CudaTensors.release(idsOnDevice);
        }
        return out;
    }

    @Override
    public Tensor backward(int[] ids, Tensor dy, int vocab) {
        int d = dy.dim(-1);
        supported(ids.length, vocab);
        Cuda.requireAvailable(OP + " backward");
        Device device = dy.device();
        if ((long) vocab * d == 0) {
            return CudaTensors.empty(device, vocab, d);
        }
        // Stable counting sort: start[v] .. start[v+1] index the positions of id v, in increasing order.
        int[] start = new int[vocab + 1];
        for (int id : ids) {
            start[id + 1]++;
        }
        for (int v = 0; v < vocab; v++) {
            start[v + 1] += start[v];
        }
        int[] next = java.util.Arrays.copyOf(start, vocab);
        int[] order = new int[ids.length];
        for (int i = 0; i < ids.length; i++) {
            order[next[ids[i]]++] = i;
        }
        Tensor dtable = CudaTensors.empty(device, vocab, d);
        Tensor startOnDevice = upload(start, device);
        Tensor orderOnDevice = ids.length == 0 ? null : upload(order, device);
        try {
            CudaTensors.enter(device);
            NativeCalls.check(OP + " backward", AttnkitNative.attnkit_embedding_backward(address(dtable, "dtable"),
                    ids.length == 0 ? 0 : address(dy, "dy"), address(orderOnDevice, "order"),
                    address(startOnDevice, "start"), ids.length, vocab, d));
        } finally {
            CudaTensors.release(startOnDevice);
            CudaTensors.release(orderOnDevice);
        }
        return dtable;
    }

    private static void supported(int n, int vocab) {
        if (n > MAX || vocab > MAX) {
            throw new UnsupportedOperationException(OP + " on CUDA supports at most 2^30 ids and table rows, got "
                    + n + " ids and V = " + vocab);
        }
    }

    /** Non-negative ints as float bit patterns (finite floats below 2^30), copied to the device bit for bit. */
    private static Tensor upload(int[] values, Device device) {
        float[] bits = new float[values.length];
        for (int i = 0; i < bits.length; i++) {
            bits[i] = Float.intBitsToFloat(values[i]);
        }
        return Tensor.of(bits, bits.length).to(device);
    }
}
