package org.attnkit.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.attnkit.backend.Backend;
import org.junit.jupiter.api.Test;

/** The runner on tiny shapes: every op runs on the reference, and rows carry what the table needs. */
class BenchRunnerTest {
    private static final BenchShape TINY = new BenchShape(2, 9, 8, 2, 3);
    private static final Ceilings FAKE = new Ceilings(100, 10);

    @Test
    void everyOpRunsBothPassesOnTheReference() {
        BenchRunner runner = new BenchRunner(BenchRunner.Settings.quick(), FAKE);
        List<BenchRunner.Row> seen = new ArrayList<>();
        List<BenchRunner.Row> rows = runner.run(List.of(BenchOp.values()), List.of(Pass.values()),
                List.of(Backend.REF), TINY, List.of(), "", seen::add);
        assertEquals(rows, seen);
        assertEquals(BenchOp.values().length * 2, rows.size());
        for (BenchRunner.Row r : rows) {
            assertFalse(r.skipped(), r.toString());
            assertTrue(r.ms() > 0 && r.reps() >= 1, r.toString());
            assertEquals(1.0, r.speedup(), 1e-12, r.toString());
            assertEquals(Costs.of(r.op(), TINY, r.pass()).flops(), r.flops());
            assertTrue(r.rooflineFraction() > 0, r.toString());
        }
    }

    @Test
    void simdRowsCarryTheSpeedupOverTheReferenceAndUnavailableBackendsAreSkippedRows() {
        BenchRunner runner = new BenchRunner(BenchRunner.Settings.quick(), FAKE);
        List<BenchRunner.Row> rows = runner.run(List.of(BenchOp.LIGHTCONV), List.of(Pass.FWD),
                List.of(Backend.REF, Backend.SIMD), TINY, List.of(Backend.CUDA), "CUDA unavailable (test)", r -> { });
        assertEquals(3, rows.size());
        BenchRunner.Row ref = rows.get(0);
        BenchRunner.Row simd = rows.get(1);
        BenchRunner.Row cuda = rows.get(2);
        assertEquals(Backend.REF, ref.backend());
        assertEquals(Backend.SIMD, simd.backend());
        assertFalse(simd.skipped());
        assertEquals(ref.ms() / simd.ms(), simd.speedup(), 1e-12);
        assertTrue(cuda.skipped());
        assertEquals(Backend.CUDA, cuda.backend());
        assertTrue(cuda.note().contains("CUDA unavailable (test)"), cuda.note());
        assertTrue(Double.isNaN(cuda.gflops()) && Double.isNaN(cuda.rooflineFraction()));
    }

    @Test
    void aTooSlowReferenceIsPredictedFromB1AndSaysSo() {
        // A budget of zero seconds makes every reference call "too slow": the row is skipped with the
        // prediction, and the other backends' speedups are marked as estimated against it.
        BenchRunner.Settings s = new BenchRunner.Settings(BenchRunner.Settings.quick().fast(),
                BenchRunner.Settings.quick().ref(), 0.0);
        BenchRunner runner = new BenchRunner(s, FAKE);
        List<BenchRunner.Row> rows = runner.run(List.of(BenchOp.LIGHTCONV), List.of(Pass.FWD),
                List.of(Backend.REF, Backend.SIMD), TINY, List.of(), "", r -> { });
        BenchRunner.Row ref = rows.get(0);
        assertTrue(ref.skipped());
        assertTrue(ref.refEstimated());
        assertTrue(ref.note().startsWith("ref not timed: predicted"), ref.note());
        assertTrue(ref.note().contains("B=1"), ref.note());
        BenchRunner.Row simd = rows.get(1);
        assertTrue(simd.refEstimated());
        assertTrue(simd.speedup() > 0, simd.toString());
        assertTrue(simd.note().contains("predicted ref"), simd.note());
    }

    @Test
    void withoutTheReferenceThereIsNoSpeedupAndNoReferenceWork() {
        BenchRunner runner = new BenchRunner(BenchRunner.Settings.quick(), FAKE);
        List<BenchRunner.Row> rows = runner.run(List.of(BenchOp.LIGHTCONV), List.of(Pass.FWDBWD),
                List.of(Backend.SIMD), TINY, List.of(), "", r -> { });
        assertEquals(1, rows.size());
        assertTrue(Double.isNaN(rows.get(0).speedup()));
    }

    @Test
    void missingBackendRecognizesTheDispatchersMessageOnly() {
        assertTrue(BenchRunner.missingBackend(new UnsupportedOperationException("glu has no simd implementation"),
                Backend.SIMD));
        assertFalse(BenchRunner.missingBackend(new UnsupportedOperationException("glu has no simd implementation"),
                Backend.CUDA));
        assertFalse(BenchRunner.missingBackend(new UnsupportedOperationException("something else broke"),
                Backend.SIMD));
    }
}
