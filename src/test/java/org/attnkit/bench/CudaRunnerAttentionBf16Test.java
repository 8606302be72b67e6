package org.attnkit.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The costs of the bf16 attention bench row (CudaRunner.attentionBf16Row), checked without a GPU. */
class CudaRunnerAttentionBf16Test {
    @Test
    void flopsAreFourBT2CAndHalfOfThatWhenCausal() {
        BenchShape s = CudaRunner.headlineAttention(false); // B=8 T=4096 C=1024 H=16
        double full = 4.0 * 8 * 4096 * 4096 * 16 * 64;
        assertEquals(full, CudaRunner.attentionBf16Flops(s, false), 0);
        assertEquals(full / 2, CudaRunner.attentionBf16Flops(s, true), 0);
        // the same count as the fp32 attention row's forward (Costs), which is never causal
        assertEquals(Costs.of(BenchOp.ATTENTION, s, Pass.FWD).flops(), CudaRunner.attentionBf16Flops(s, false), 0);
    }

    @Test
    void bytesAreQKVAndYInBf16PlusTheLse() {
        BenchShape s = new BenchShape(2, 100, 128, 2, 1);
        assertEquals(4.0 * 2 * 100 * 128 * 2 + 4.0 * 2 * 2 * 100, CudaRunner.attentionBf16Bytes(s), 0);
    }
}
