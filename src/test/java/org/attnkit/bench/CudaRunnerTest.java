package org.attnkit.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.util.List;
import org.attnkit.backend.cuda.Cuda;
import org.attnkit.backend.cuda.CudaUnavailableException;
import org.attnkit.tensor.Device;
import org.junit.jupiter.api.Test;

/** What of the CUDA bench rows can be checked without a GPU: the shapes, costs and ceilings they use. */
class CudaRunnerTest {
    @Test
    void theHeadlineGemmsAreTheIssuesShapes() {
        List<CudaRunner.GemmShape> g = CudaRunner.headlineGemms(false);
        assertEquals(List.of(new CudaRunner.GemmShape(8192, 8192, 8192), new CudaRunner.GemmShape(4096, 512, 512)), g);
        // The gemm op multiplies a[B*T, C] by b[C, C]: M = B*T, N = K = C.
        BenchShape big = g.get(0).benchShape();
        assertEquals(8192L, big.tokens());
        assertEquals(8192, big.C());
        assertEquals(2.0 * Math.pow(8192, 3), Costs.of(BenchOp.GEMM, big, Pass.FWD).flops(), 0);
        BenchShape small = g.get(1).benchShape();
        assertEquals(2.0 * 4096 * 512 * 512, Costs.of(BenchOp.GEMM, small, Pass.FWD).flops(), 0);
        assertThrows(IllegalArgumentException.class, () -> new CudaRunner.GemmShape(4, 5, 6).benchShape());
    }

    @Test
    void theHeadlineAttentionIsB8H16T4096D64() {
        BenchShape s = CudaRunner.headlineAttention(false);
        assertEquals(8, s.B());
        assertEquals(4096, s.T());
        assertEquals(16, s.H());
        assertEquals(64, s.C() / s.H());
    }

    @Test
    void eachPrecisionHasItsCeiling() {
        assertEquals(CudaRunner.FP32_GFLOPS, CudaRunner.peakGflops("fp32"), 0);
        assertEquals(CudaRunner.TF32_GFLOPS, CudaRunner.peakGflops("tf32"), 0);
        assertEquals(CudaRunner.BF16_GFLOPS, CudaRunner.peakGflops("bf16"), 0);
        assertEquals(CudaRunner.BF16_GFLOPS, CudaRunner.peakGflops("bf16-buffers"), 0);
        assertEquals(CudaRunner.FP32_GFLOPS, CudaRunner.peakGflops(""), 0);
    }

    @Test
    void withoutAGpuTheRunnerFailsWithTheProbesReason() {
        assumeFalse(Cuda.isAvailable(), "a GPU is present");
        CudaRunner r = new CudaRunner(CudaRunner.Settings.quick(), Device.cuda(0));
        CudaUnavailableException e = assertThrows(CudaUnavailableException.class, r::copyGbps);
        assertTrue(e.getMessage().contains("CUDA is unavailable ("), e.getMessage());
    }
}
