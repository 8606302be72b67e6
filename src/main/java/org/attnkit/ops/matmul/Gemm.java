package org.attnkit.ops.matmul;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.attnkit.backend.CpuPool;
import org.attnkit.backend.VectorMath;

/**
 * Float32 matrix multiply on the Vector API, BLAS-like and row-major:
 * {@code C = op(A) op(B)} or {@code C += op(A) op(B)}, where {@code op(A)} is {@code M x K} and
 * {@code op(B)} is {@code K x N}. Without transposition A is stored {@code M x K} with row stride
 * {@code lda}; with {@code transA} it is stored {@code K x M} (so {@code op(A) = A^T}) and
 * {@code lda} is the stride of those K rows. Likewise B is {@code K x N} or, with {@code transB},
 * {@code N x K}. C is {@code M x N} with row stride {@code ldc}.
 *
 * <p>Design (Goto/BLIS): op(B) is packed once into K-blocks of {@link #KC} rows, each cut into
 * strips {@link #NR} columns wide (two vectors) laid out k-major, zero-padded past N; each task
 * packs its {@link #MC}-row block of op(A) per K-block into {@link #MR}-row strips, zero-padded past
 * M. The micro-kernel ({@link #kernel6} or {@link #kernel4}, by {@link #MR}) keeps an MR x NR tile of C in
 * 2 * MR vector accumulators and does one
 * broadcast and two FMAs per row and k; the packed A block stays in L2 and the B strip in L1. A
 * last strip at most one vector wide uses an MR x V kernel instead. Edge tiles compute on the zero
 * padding and write back only their valid part.
 *
 * <p>Work is split into a fixed grid of (batch, M-block, N-block) tasks, each owning its C tile and
 * summing the K-blocks in order, so the result is the same bits whatever the number of threads.
 * Every element of C is {@code C_in + s_0 + s_1 + ...} (float), where {@code s_b} is the
 * sequential float FMA chain over K-block b.
 */
public final class Gemm {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int V = S.length();
    /**
     * Rows of the register tile: 2 * MR accumulators, 2 B vectors and the A broadcasts must stay in registers.
     * 6 rows (12 accumulators) where there are 32 vector registers, 4 (8 accumulators, still enough independent
     * FMA chains for two 4-cycle FMA pipes) where there are 16: see {@link VectorMath#SIXTEEN_REGISTERS}.
     */
    static final int MR = VectorMath.SIXTEEN_REGISTERS ? 4 : 6;
    /** Columns of the register tile: two vectors. */
    static final int NR = 2 * V;
    /** Depth of a K-block: an MR x KC A strip plus a KC x NR B strip fit in L1. */
    static final int KC = 256;
    /** Rows of op(A) per task: the packed MC x KC block (120 KiB) stays in L2. */
    static final int MC = 20 * MR;
    /** Columns of C per task: the packed KC x NC block of B (512 KiB) stays in L2/L3. */
    static final int NC = Math.max(1, 512 / NR) * NR;
    /** Below this many FLOPs the fork/join overhead outweighs a second thread. */
    private static final long PARALLEL_FLOPS = 2_000_000L;

    private static final ThreadLocal<float[]> A_PANEL = ThreadLocal.withInitial(() -> new float[MC * KC]);

    private Gemm() {
    }

    /**
     * {@code C = op(A) op(B)}, or {@code C += op(A) op(B)} when {@code accumulate}; see the class
     * comment for the layouts. C must not overlap A or B.
     *
     * @throws IllegalArgumentException for negative sizes, a leading dimension smaller than the
     *     stored row, or an operand that does not fit its array
     */
    public static void gemm(boolean transA, boolean transB, int M, int N, int K,
                            float[] A, int aOff, int lda, float[] B, int bOff, int ldb,
                            float[] C, int cOff, int ldc, boolean accumulate) {
        gemmBatched(1, transA, transB, M, N, K, A, aOff, lda, 0, B, bOff, ldb, 0, C, cOff, ldc, 0, accumulate);
    }

    /**
     * {@code batch} independent products: product p uses A at {@code aOff + p * strideA}, B at
     * {@code bOff + p * strideB} and C at {@code cOff + p * strideC}, otherwise as {@link #gemm}.
     * The C matrices must not overlap each other or A and B.
     */
    public static void gemmBatched(int batch, boolean transA, boolean transB, int M, int N, int K,
                                   float[] A, int aOff, int lda, int strideA,
                                   float[] B, int bOff, int ldb, int strideB,
                                   float[] C, int cOff, int ldc, int strideC, boolean accumulate) {
        if (batch < 0 || M < 0 || N < 0 || K < 0) {
            throw new IllegalArgumentException("gemm: sizes must be >= 0, got batch = " + batch + ", M = " + M
                    + ", N = " + N + ", K = " + K);
        }
        checkOperand("A", A, aOff, lda, strideA, batch, transA ? K : M, transA ? M : K);
        checkOperand("B", B, bOff, ldb, strideB, batch, transB ? N : K, transB ? K : N);
        checkOperand("C", C, cOff, ldc, strideC, batch, M, N);
        if (batch == 0 || M == 0 || N == 0) {
            return;
        }
        if (K == 0) {
            if (!accumulate) {
                for (int p = 0; p < batch; p++) {
                    for (int i = 0; i < M; i++) {
                        int at = cOff + p * strideC + i * ldc;
                        java.util.Arrays.fill(C, at, at + N, 0f);
                    }
                }
            }
            return;
        }
        int kBlocks = ceilDiv(K, KC);
        int nPanels = ceilDiv(N, NR);
        int nPad = nPanels * NR;
        long packedSize = (long) batch * K * nPad;
        if (packedSize > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("gemm: packed B would need " + packedSize
                    + " floats (batch = " + batch + ", K = " + K + ", N = " + N + "); split the product");
        }
        boolean parallel = 2.0 * batch * M * N * K >= PARALLEL_FLOPS;
        float[] pb = new float[(int) packedSize]; // [batch][K-block][N-strip][kc][NR]
        int bStride = K * nPad;
        run(parallel, batch * kBlocks, t -> {
            int p = t / kBlocks;
            int k0 = (t % kBlocks) * KC;
            packB(transB, B, bOff + p * strideB, ldb, N, k0, Math.min(KC, K - k0), pb, p * bStride + k0 * nPad);
        });

        int mBlocks = ceilDiv(M, MC);
        int nBlocks = ceilDiv(N, NC);
        int perBatch = mBlocks * nBlocks;
        run(parallel, batch * perBatch, t -> {
            int p = t / perBatch;
            int mb = (t % perBatch) / nBlocks;
            int nb = t % nBlocks;
            block(transA, M, N, K, A, aOff + p * strideA, lda, pb, p * bStride, nPad, C, cOff + p * strideC, ldc,
                    accumulate, mb * MC, nb * NC);
        });
    }

    /** One task: the C tile of rows [i0, i0 + MC) and columns [j0, j0 + NC), all K-blocks in order. */
    private static void block(boolean transA, int M, int N, int K, float[] A, int aBase, int lda,
                              float[] pb, int bBase, int nPad, float[] C, int cBase, int ldc,
                              boolean accumulate, int i0, int j0) {
        float[] pa = A_PANEL.get();
        int mc = Math.min(MC, M - i0);
        int mPanels = ceilDiv(mc, MR);
        int firstStrip = j0 / NR;
        int endStrip = ceilDiv(Math.min(N, j0 + NC), NR);
        for (int k0 = 0; k0 < K; k0 += KC) {
            int kc = Math.min(KC, K - k0);
            packA(transA, A, aBase, lda, i0, mc, k0, kc, pa);
            boolean load = accumulate || k0 > 0;
            for (int js = firstStrip; js < endStrip; js++) {
                int cols = Math.min(NR, N - js * NR);
                int bo = bBase + k0 * nPad + js * kc * NR;
                for (int ip = 0; ip < mPanels; ip++) {
                    int rows = Math.min(MR, mc - ip * MR);
                    int co = cBase + (i0 + ip * MR) * ldc + js * NR;
                    if (cols <= V) {
                        kernelNarrow(kc, pa, ip * kc * MR, pb, bo, C, co, ldc, rows, cols, load);
                    } else if (MR == 6) {
                        kernel6(kc, pa, ip * kc * MR, pb, bo, C, co, ldc, rows, cols, load);
                    } else {
                        kernel4(kc, pa, ip * kc * MR, pb, bo, C, co, ldc, rows, cols, load);
                    }
                }
            }
        }
    }

    /** Packs rows [i0, i0 + mc) x depth [k0, k0 + kc) of op(A) as MR-row strips, [strip][k][MR]. */
    private static void packA(boolean transA, float[] A, int base, int lda, int i0, int mc, int k0, int kc,
                              float[] pa) {
        for (int ip = 0; ip * MR < mc; ip++) {
            int r0 = i0 + ip * MR;
            int rows = Math.min(MR, mc - ip * MR);
            int dst = ip * kc * MR;
            if (!transA) {
                for (int r = 0; r < rows; r++) {
                    int src = base + (r0 + r) * lda + k0;
                    for (int k = 0; k < kc; k++) {
                        pa[dst + k * MR + r] = A[src + k];
                    }
                }
            } else {
                for (int k = 0; k < kc; k++) {
                    int src = base + (k0 + k) * lda + r0;
                    for (int r = 0; r < rows; r++) {
                        pa[dst + k * MR + r] = A[src + r];
                    }
                }
            }
            // The scratch is reused: padding rows must be zero so the full tile adds nothing there.
            for (int r = rows; r < MR; r++) {
                for (int k = 0; k < kc; k++) {
                    pa[dst + k * MR + r] = 0f;
                }
            }
        }
    }

    /**
     * Packs depth [k0, k0 + kc) of op(B), all N columns, as NR-column strips [strip][k][NR] from
     * {@code dst}. Columns past N stay zero (the buffer is fresh).
     */
    private static void packB(boolean transB, float[] B, int base, int ldb, int N, int k0, int kc,
                              float[] pb, int dst) {
        for (int j0 = 0; j0 < N; j0 += NR) {
            int cols = Math.min(NR, N - j0);
            int d = dst + (j0 / NR) * kc * NR;
            if (!transB) {
                for (int k = 0; k < kc; k++) {
                    System.arraycopy(B, base + (k0 + k) * ldb + j0, pb, d + k * NR, cols);
                }
            } else {
                for (int j = 0; j < cols; j++) {
                    int src = base + (j0 + j) * ldb + k0;
                    for (int k = 0; k < kc; k++) {
                        pb[d + k * NR + j] = B[src + k];
                    }
                }
            }
        }
    }

    /**
     * The 6 x NR register tile over one K-block: C[rows, cols] (+)= Apanel^T Bstrip. Edge tiles
     * compute the full (zero-padded) tile and write back only the valid part, with the same float
     * additions as the full path.
     */
    private static void kernel6(int kc, float[] pa, int ao, float[] pb, int bo, float[] C, int co, int ldc,
                               int rows, int cols, boolean load) {
        FloatVector c00 = FloatVector.zero(S);
        FloatVector c01 = c00;
        FloatVector c10 = c00;
        FloatVector c11 = c00;
        FloatVector c20 = c00;
        FloatVector c21 = c00;
        FloatVector c30 = c00;
        FloatVector c31 = c00;
        FloatVector c40 = c00;
        FloatVector c41 = c00;
        FloatVector c50 = c00;
        FloatVector c51 = c00;
        // Indices linear in k (not running sums) let C2 hoist the bounds checks out of the loop.
        for (int k = 0; k < kc; k++) {
            int a0 = ao + k * MR;
            int b = bo + k * NR;
            FloatVector b0 = FloatVector.fromArray(S, pb, b);
            FloatVector b1 = FloatVector.fromArray(S, pb, b + V);
            FloatVector a = FloatVector.broadcast(S, pa[a0]);
            c00 = a.fma(b0, c00);
            c01 = a.fma(b1, c01);
            a = FloatVector.broadcast(S, pa[a0 + 1]);
            c10 = a.fma(b0, c10);
            c11 = a.fma(b1, c11);
            a = FloatVector.broadcast(S, pa[a0 + 2]);
            c20 = a.fma(b0, c20);
            c21 = a.fma(b1, c21);
            a = FloatVector.broadcast(S, pa[a0 + 3]);
            c30 = a.fma(b0, c30);
            c31 = a.fma(b1, c31);
            a = FloatVector.broadcast(S, pa[a0 + 4]);
            c40 = a.fma(b0, c40);
            c41 = a.fma(b1, c41);
            a = FloatVector.broadcast(S, pa[a0 + 5]);
            c50 = a.fma(b0, c50);
            c51 = a.fma(b1, c51);
        }
        // Written out rather than through a store(FloatVector, ...) helper: in a method this large C2 can stop
        // inlining at its node-count cutoff, and a vector passed to a call that is not inlined is boxed and its
        // operations no longer intrinsified (measured: GEMM at a third of its speed after another operator had
        // run first, with PrintInlining showing "store ... NodeCountInliningCutoff").
        if (rows == 6 && cols == NR) {
            if (load) {
                c00 = FloatVector.fromArray(S, C, co).add(c00);
                c01 = FloatVector.fromArray(S, C, co + V).add(c01);
                c10 = FloatVector.fromArray(S, C, co + ldc).add(c10);
                c11 = FloatVector.fromArray(S, C, co + ldc + V).add(c11);
                c20 = FloatVector.fromArray(S, C, co + 2 * ldc).add(c20);
                c21 = FloatVector.fromArray(S, C, co + 2 * ldc + V).add(c21);
                c30 = FloatVector.fromArray(S, C, co + 3 * ldc).add(c30);
                c31 = FloatVector.fromArray(S, C, co + 3 * ldc + V).add(c31);
                c40 = FloatVector.fromArray(S, C, co + 4 * ldc).add(c40);
                c41 = FloatVector.fromArray(S, C, co + 4 * ldc + V).add(c41);
                c50 = FloatVector.fromArray(S, C, co + 5 * ldc).add(c50);
                c51 = FloatVector.fromArray(S, C, co + 5 * ldc + V).add(c51);
            }
            c00.intoArray(C, co);
            c01.intoArray(C, co + V);
            c10.intoArray(C, co + ldc);
            c11.intoArray(C, co + ldc + V);
            c20.intoArray(C, co + 2 * ldc);
            c21.intoArray(C, co + 2 * ldc + V);
            c30.intoArray(C, co + 3 * ldc);
            c31.intoArray(C, co + 3 * ldc + V);
            c40.intoArray(C, co + 4 * ldc);
            c41.intoArray(C, co + 4 * ldc + V);
            c50.intoArray(C, co + 5 * ldc);
            c51.intoArray(C, co + 5 * ldc + V);
            return;
        }
        float[] tile = new float[MR * NR];
        c00.intoArray(tile, 0);
        c01.intoArray(tile, V);
        c10.intoArray(tile, NR);
        c11.intoArray(tile, NR + V);
        c20.intoArray(tile, 2 * NR);
        c21.intoArray(tile, 2 * NR + V);
        c30.intoArray(tile, 3 * NR);
        c31.intoArray(tile, 3 * NR + V);
        c40.intoArray(tile, 4 * NR);
        c41.intoArray(tile, 4 * NR + V);
        c50.intoArray(tile, 5 * NR);
        c51.intoArray(tile, 5 * NR + V);
        for (int r = 0; r < rows; r++) {
            int at = co + r * ldc;
            for (int j = 0; j < cols; j++) {
                C[at + j] = load ? C[at + j] + tile[r * NR + j] : tile[r * NR + j];
            }
        }
    }

    /** {@link #kernel6} with 4 rows, for machines with 16 vector registers. */
    private static void kernel4(int kc, float[] pa, int ao, float[] pb, int bo, float[] C, int co, int ldc,
                               int rows, int cols, boolean load) {
        FloatVector c00 = FloatVector.zero(S);
        FloatVector c01 = c00;
        FloatVector c10 = c00;
        FloatVector c11 = c00;
        FloatVector c20 = c00;
        FloatVector c21 = c00;
        FloatVector c30 = c00;
        FloatVector c31 = c00;
        // Indices linear in k (not running sums) let C2 hoist the bounds checks out of the loop.
        for (int k = 0; k < kc; k++) {
            int a0 = ao + k * MR;
            int b = bo + k * NR;
            FloatVector b0 = FloatVector.fromArray(S, pb, b);
            FloatVector b1 = FloatVector.fromArray(S, pb, b + V);
            FloatVector a = FloatVector.broadcast(S, pa[a0]);
            c00 = a.fma(b0, c00);
            c01 = a.fma(b1, c01);
            a = FloatVector.broadcast(S, pa[a0 + 1]);
            c10 = a.fma(b0, c10);
            c11 = a.fma(b1, c11);
            a = FloatVector.broadcast(S, pa[a0 + 2]);
            c20 = a.fma(b0, c20);
            c21 = a.fma(b1, c21);
            a = FloatVector.broadcast(S, pa[a0 + 3]);
            c30 = a.fma(b0, c30);
            c31 = a.fma(b1, c31);
        }
        // Written out rather than through a store(FloatVector, ...) helper: in a method this large C2 can stop
        // inlining at its node-count cutoff, and a vector passed to a call that is not inlined is boxed and its
        // operations no longer intrinsified (measured: GEMM at a third of its speed after another operator had
        // run first, with PrintInlining showing "store ... NodeCountInliningCutoff").
        if (rows == 4 && cols == NR) {
            if (load) {
                c00 = FloatVector.fromArray(S, C, co).add(c00);
                c01 = FloatVector.fromArray(S, C, co + V).add(c01);
                c10 = FloatVector.fromArray(S, C, co + ldc).add(c10);
                c11 = FloatVector.fromArray(S, C, co + ldc + V).add(c11);
                c20 = FloatVector.fromArray(S, C, co + 2 * ldc).add(c20);
                c21 = FloatVector.fromArray(S, C, co + 2 * ldc + V).add(c21);
                c30 = FloatVector.fromArray(S, C, co + 3 * ldc).add(c30);
                c31 = FloatVector.fromArray(S, C, co + 3 * ldc + V).add(c31);
            }
            c00.intoArray(C, co);
            c01.intoArray(C, co + V);
            c10.intoArray(C, co + ldc);
            c11.intoArray(C, co + ldc + V);
            c20.intoArray(C, co + 2 * ldc);
            c21.intoArray(C, co + 2 * ldc + V);
            c30.intoArray(C, co + 3 * ldc);
            c31.intoArray(C, co + 3 * ldc + V);
            return;
        }
        float[] tile = new float[MR * NR];
        c00.intoArray(tile, 0);
        c01.intoArray(tile, V);
        c10.intoArray(tile, NR);
        c11.intoArray(tile, NR + V);
        c20.intoArray(tile, 2 * NR);
        c21.intoArray(tile, 2 * NR + V);
        c30.intoArray(tile, 3 * NR);
        c31.intoArray(tile, 3 * NR + V);
        for (int r = 0; r < rows; r++) {
            int at = co + r * ldc;
            for (int j = 0; j < cols; j++) {
                C[at + j] = load ? C[at + j] + tile[r * NR + j] : tile[r * NR + j];
            }
        }
    }

    /**
     * {@link #kernel6} / {@link #kernel4} for a last strip at most one vector wide: the MR x V tile of the strip's first
     * vector column, so narrow products do not pay for the zero padding. Same float operations per
     * element as the wide kernel.
     */
    private static void kernelNarrow(int kc, float[] pa, int ao, float[] pb, int bo, float[] C, int co, int ldc,
                                     int rows, int cols, boolean load) {
        FloatVector c0 = FloatVector.zero(S);
        FloatVector c1 = c0;
        FloatVector c2 = c0;
        FloatVector c3 = c0;
        FloatVector c4 = c0;
        FloatVector c5 = c0;
        for (int k = 0; k < kc; k++) {
            int a0 = ao + k * MR;
            FloatVector b0 = FloatVector.fromArray(S, pb, bo + k * NR);
            c0 = FloatVector.broadcast(S, pa[a0]).fma(b0, c0);
            c1 = FloatVector.broadcast(S, pa[a0 + 1]).fma(b0, c1);
            c2 = FloatVector.broadcast(S, pa[a0 + 2]).fma(b0, c2);
            c3 = FloatVector.broadcast(S, pa[a0 + 3]).fma(b0, c3);
            if (MR == 6) { // a constant: C2 keeps one of the two loop bodies
                c4 = FloatVector.broadcast(S, pa[a0 + 4]).fma(b0, c4);
                c5 = FloatVector.broadcast(S, pa[a0 + 5]).fma(b0, c5);
            }
        }
        float[] tile = new float[MR * V];
        c0.intoArray(tile, 0);
        c1.intoArray(tile, V);
        c2.intoArray(tile, 2 * V);
        c3.intoArray(tile, 3 * V);
        if (MR == 6) {
            c4.intoArray(tile, 4 * V);
            c5.intoArray(tile, 5 * V);
        }
        for (int r = 0; r < rows; r++) {
            int at = co + r * ldc;
            for (int j = 0; j < cols; j++) {
                C[at + j] = load ? C[at + j] + tile[r * V + j] : tile[r * V + j];
            }
        }
    }

    private static void run(boolean parallel, int tasks, java.util.function.IntConsumer task) {
        if (parallel) {
            CpuPool.parallelFor(tasks, task);
        } else {
            for (int t = 0; t < tasks; t++) {
                task.accept(t);
            }
        }
    }

    /** Checks that {@code batch} matrices of rows x cols at stride {@code ld} fit {@code a}. */
    private static void checkOperand(String name, float[] a, int off, int ld, int stride, int batch, int rows,
                                     int cols) {
        if (a == null) {
            throw new IllegalArgumentException("gemm: " + name + " must not be null");
        }
        if (ld < Math.max(1, cols)) {
            throw new IllegalArgumentException("gemm: leading dimension of " + name + " must be >= "
                    + Math.max(1, cols) + " (its stored row length), got " + ld);
        }
        if (off < 0 || stride < 0) {
            throw new IllegalArgumentException("gemm: offset and batch stride of " + name
                    + " must be >= 0, got offset " + off + ", stride " + stride);
        }
        if (batch == 0 || rows == 0 || cols == 0) {
            return;
        }
        long last = off + (long) (batch - 1) * stride + (long) (rows - 1) * ld + cols - 1;
        if (last >= a.length) {
            throw new IllegalArgumentException("gemm: " + name + " (" + rows + " x " + cols + ", ld " + ld
                    + ", offset " + off + ", batch " + batch + " at stride " + stride + ") needs index " + last
                    + " but the array has length " + a.length);
        }
    }

    private static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }
}
