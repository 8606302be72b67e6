package org.attnkit.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The cost formulas against values worked out by hand from SPEC's tables. */
class CostsTest {
    private static final BenchShape HEADLINE = new BenchShape(8, 512, 512, 8, 31);

    @Test
    void lightConvMatchesSpecAtTheHeadlineShape() {
        // N = 4096 tokens, C = 512, K = 31: fwd 2NCK = 130,023,424 FLOPs; 2NC*4 = 16,777,216 bytes.
        Costs.Cost fwd = Costs.of(BenchOp.LIGHTCONV, HEADLINE, Pass.FWD);
        assertEquals(130_023_424.0, fwd.flops());
        assertEquals(16_777_216.0, fwd.bytes());
        // bwd 4NCK = 260,046,848 and 3NC*4 = 25,165,824; fwd+bwd is their sum.
        Costs.Cost both = Costs.of(BenchOp.LIGHTCONV, HEADLINE, Pass.FWDBWD);
        assertEquals(130_023_424.0 + 260_046_848.0, both.flops());
        assertEquals(16_777_216.0 + 25_165_824.0, both.bytes());
    }

    @Test
    void lightConvAtTheIssuesCeilingsIsMemoryBoundInFloat32() {
        // The issue's ceilings: FMA peak ~470 GFLOP/s, ~34 GB/s. The FLOP term is 130.0 MFLOP / 470 = 0.277 ms
        // (the issue's "~0.28 ms"), but moving 16.8 MB of float32 at 34 GB/s takes 0.493 ms: the max binds.
        Ceilings c = new Ceilings(470, 34);
        Costs.Cost fwd = Costs.of(BenchOp.LIGHTCONV, HEADLINE, Pass.FWD);
        assertEquals(0.2767e-3, fwd.flops() / 470e9, 0.0001e-3);
        double s = c.rooflineSeconds(fwd.flops(), fwd.bytes());
        assertEquals(16_777_216.0 / 34e9, s, 1e-15);
        assertEquals(0.4934e-3, s, 0.0001e-3);
    }

    @Test
    void dynamicConvCountsTheGeneratorGemm() {
        // B=1 T=10 C=16 H=2 K=3: N=10, L=6. fwd: generator 2*N*C*L = 1920, conv 2*N*C*K = 960.
        BenchShape s = new BenchShape(1, 10, 16, 2, 3);
        Costs.Cost fwd = Costs.forward(BenchOp.DYNAMICCONV, s);
        assertEquals(1920 + 960, fwd.flops());
        assertEquals(2 * 10 * 16 * 4, fwd.bytes());
        // bwd: conv 4NCK = 1920 plus generator 4NCL = 3840; bytes (3C + 2L) N s = (48 + 12) * 10 * 4.
        Costs.Cost bwd = Costs.backward(BenchOp.DYNAMICCONV, s);
        assertEquals(1920 + 3840, bwd.flops());
        assertEquals(60 * 10 * 4, bwd.bytes());
    }

    @Test
    void attentionIsQuadraticInT() {
        // 4 B T^2 C: B=2 T=3 C=4 -> 4*2*9*4 = 288; bytes 4NC*4 = 4*6*4*4 = 384.
        BenchShape s = new BenchShape(2, 3, 4, 2, 1);
        Costs.Cost fwd = Costs.forward(BenchOp.ATTENTION, s);
        assertEquals(288, fwd.flops());
        assertEquals(384, fwd.bytes());
        assertEquals(2 * 288, Costs.backward(BenchOp.ATTENTION, s).flops());
        Costs.Cost twice = Costs.forward(BenchOp.ATTENTION, s.withT(6));
        assertEquals(4 * fwd.flops(), twice.flops());
        assertEquals(2 * fwd.bytes(), twice.bytes());
    }

    @Test
    void gemmIsTheIssues4096x512x512() {
        Costs.Cost fwd = Costs.forward(BenchOp.GEMM, HEADLINE);
        // 2 * 4096 * 512 * 512 = 2,147,483,648 FLOPs; A 4096x512 + B 512x512 + C 4096x512 floats.
        assertEquals(2_147_483_648.0, fwd.flops());
        assertEquals((4096.0 * 512 + 512 * 512 + 4096 * 512) * 4, fwd.bytes());
        assertEquals(2 * fwd.flops(), Costs.backward(BenchOp.GEMM, HEADLINE).flops());
    }

    @Test
    void memoryBoundOpsFollowTheSummaryTable() {
        BenchShape s = new BenchShape(2, 5, 6, 3, 3); // N = 10, C = 6, NC = 60
        assertEquals(new Costs.Cost(120, 3 * 60 * 4), Costs.forward(BenchOp.GLU, s)); // N*2C, 3NCs
        assertEquals(new Costs.Cost(240, 5 * 60 * 4), Costs.backward(BenchOp.GLU, s)); // 4NC; read x,dy write dx
        assertEquals(2 * 60 * 4, Costs.forward(BenchOp.SOFTMAX, s).bytes());
        assertEquals(2 * 60 * 4, Costs.forward(BenchOp.LAYERNORM, s).bytes());
        assertEquals(3 * 60 * 4, Costs.backward(BenchOp.LAYERNORM, s).bytes());
        // MAE: mean NC + gate MLP 2B(C*G + G*E) + mixing NC, with G = 64 and E = H = 3.
        assertEquals(60 + 2.0 * 2 * (6 * 64 + 64 * 3) + 60, Costs.forward(BenchOp.MAE, s).flops());
        // Linear C -> C with bias: 2NC^2 + NC = 720 + 60.
        assertEquals(780, Costs.forward(BenchOp.LINEAR, s).flops());
    }

    @Test
    void everyOpHasPositiveCostsForBothPasses() {
        for (BenchOp op : BenchOp.values()) {
            for (Pass p : Pass.values()) {
                Costs.Cost c = Costs.of(op, BenchShape.QUICK, p);
                assertTrue(c.flops() > 0 && c.bytes() > 0, op + " " + p + ": " + c);
            }
        }
    }

    @Test
    void rooflineFractionIsTheBindingRoofOverTheMeasuredTime() {
        Ceilings c = new Ceilings(100, 10); // 1e11 FLOP/s, 1e10 B/s
        Costs.Cost fwd = Costs.of(BenchOp.LIGHTCONV, HEADLINE, Pass.FWD);
        double roofS = Math.max(fwd.flops() / 1e11, fwd.bytes() / 1e10);
        BenchRunner.Row r = new BenchRunner.Row(BenchOp.LIGHTCONV, org.attnkit.backend.Backend.SIMD, Pass.FWD,
                HEADLINE, fwd.flops(), fwd.bytes(), 4.0, 5, 40.0, false, "", c);
        assertEquals(roofS / 4e-3, r.rooflineFraction(), 1e-12);
        assertEquals(fwd.flops() / 4e-3 / 1e9, r.gflops(), 1e-9);
        assertEquals(fwd.bytes() / 4e-3 / 1e9, r.gbps(), 1e-9);
        assertEquals(10.0, r.speedup(), 1e-12);
        // 130.0 MFLOP at 1e11 FLOP/s = 1.30 ms < 16.8 MB at 1e10 B/s = 1.68 ms.
        assertEquals("memory", r.bound());
        BenchRunner.Row compute = new BenchRunner.Row(BenchOp.LIGHTCONV, org.attnkit.backend.Backend.SIMD,
                Pass.FWD, HEADLINE, fwd.flops(), fwd.bytes(), 4.0, 5, 40.0, false, "", new Ceilings(100, 100));
        assertEquals("compute", compute.bound());
        assertEquals(fwd.flops() / 1e11 / 4e-3, compute.rooflineFraction(), 1e-12);
    }

    @Test
    void shapesAreValidated() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new BenchShape(1, 8, 10, 4, 3));
        assertTrue(e.getMessage().contains("C = 10") && e.getMessage().contains("H = 4"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new BenchShape(0, 8, 8, 4, 3));
        assertTrue(e.getMessage().contains("B=0"), e.getMessage());
    }

    @Test
    void timerTakesTheMedianWithinItsRepetitionBounds() {
        assertEquals(2.0, Timer.median(new double[] {5, 1, 2}));
        assertEquals(2.5, Timer.median(new double[] {4, 1, 3, 2}));
        int[] calls = {0};
        Timer.Result r = new Timer(0, 2, 0, 0, 3, 7).time(() -> calls[0]++);
        assertEquals(3, r.reps()); // budget 0: stops at minReps
        assertEquals(5, calls[0]); // plus the 2 warm-up runs
    }

    @Test
    void timerReportsTheFastestTimedCall() {
        // Timed calls of 30, 1 and 30 ms after one 1 ms warm-up call: the median is a slow call, the fastest the 1 ms.
        long[] sleeps = {1, 30, 1, 30};
        int[] calls = {0};
        Timer.Result r = new Timer(0, 1, 0, 0, 3, 3).time(() -> {
            try {
                Thread.sleep(sleeps[calls[0]++]);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        assertEquals(3, r.reps());
        assertTrue(r.minMs() >= 1 && r.minMs() < 25, "min " + r.minMs());
        assertTrue(r.ms() >= 30, "median " + r.ms());
    }

    @Test
    void warmUpGoesOnWhileTheRunsKeepGettingFaster() {
        // Like a kernel still being compiled: 80, 40, 20, 10, 5 ms, then flat. The warm-up must not stop at
        // minWarmup = 1 while the runs improve, and stops after three runs without a new best.
        long[] sleeps = {80, 40, 20, 10, 5};
        int[] calls = {0};
        Timer.Result r = new Timer(0, 1, 10, 0, 1, 1).time(() -> {
            int i = calls[0]++;
            try {
                Thread.sleep(i < sleeps.length ? sleeps[i] : 5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        assertEquals(1, r.reps());
        assertTrue(calls[0] >= sleeps.length + 1, "calls: " + calls[0]);
        assertTrue(calls[0] < 40, "calls: " + calls[0]);
    }

    @Test
    void warmUpClockStartsAfterTheFirstRun() {
        // A 300 ms first run (class loading, the interpreter) and 1 ms runs after it: with 50 ms of warm-up
        // the timer must still warm for ~50 ms after the first run, not stop because 300 ms have passed.
        int[] calls = {0};
        new Timer(0.05, 1, 10, 0, 1, 1).time(() -> {
            try {
                Thread.sleep(calls[0]++ == 0 ? 300 : 1);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        assertTrue(calls[0] >= 15, "calls: " + calls[0]);
    }

    @Test
    void warmUpSeesAGradualSpeedUpThroughTheWindowedMedian() {
        // Runs i at recent[i % 10]. No new best within the last three runs, so only the window test decides.
        double[] slowThenFaster = new double[2 * Timer.WINDOW];
        double[] flat = new double[2 * Timer.WINDOW];
        for (int i = 0; i < 2 * Timer.WINDOW; i++) {
            boolean lastWindow = i >= Timer.WINDOW;
            slowThenFaster[i] = lastWindow ? 2.0 + 0.1 * (i % 3) : 3.0 + 0.1 * (i % 2);
            flat[i] = 3.0 + 0.1 * (i % 3);
        }
        assertTrue(Timer.improving(slowThenFaster, 2 * Timer.WINDOW, 3));
        assertFalse(Timer.improving(flat, 2 * Timer.WINDOW, 3));
        assertFalse(Timer.improving(slowThenFaster, 2 * Timer.WINDOW - 1, 3), "fewer than two windows of runs");
        assertTrue(Timer.improving(flat, 2 * Timer.WINDOW, 2), "a new best within the last three runs");
    }

    @Test
    void opNamesParseAndUnknownNamesListTheValidOnes() {
        assertEquals(BenchOp.DYNAMICCONV, BenchOp.parse("DynamicConv"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> BenchOp.parse("conv9"));
        assertTrue(e.getMessage().contains("'conv9'") && e.getMessage().contains("lightconv"), e.getMessage());
    }
}
