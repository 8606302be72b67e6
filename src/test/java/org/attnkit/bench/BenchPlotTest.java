package org.attnkit.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.attnkit.backend.Backend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Drawing the T plot from saved JSON rows (how the GPU runs, whose JRE has no AWT, get their plot). */
class BenchPlotTest {
    @TempDir
    Path dir;

    private static final String ROW = "{\"op\":\"lightconv\",\"backend\":\"cuda\",\"pass\":\"fwd\",\"B\":8,\"T\":%d,"
            + "\"C\":512,\"H\":8,\"K\":31,\"ms\":%s,\"gflops\":1.0,\"gbps\":1.0,\"reps\":5,\"skipped\":false,"
            + "\"note\":\"CUDA events\"}";

    @Test
    void aJsonRowParsesBackIntoARow() {
        BenchRunner.Row r = BenchPlot.parseRow(String.format(ROW, 256, "0.125"));
        assertEquals(BenchOp.LIGHTCONV, r.op());
        assertEquals(Backend.CUDA, r.backend());
        assertEquals(Pass.FWD, r.pass());
        assertEquals(new BenchShape(8, 256, 512, 8, 31), r.shape());
        assertEquals(0.125, r.ms(), 0);
        assertNull(BenchPlot.parseRow("{\"op\":\"ceiling\",\"gflops\":1,\"gbps\":2}"));
        assertNull(BenchPlot.parseRow(String.format(ROW, 256, "null")), "a skipped row has no time to draw");
        assertNull(BenchPlot.parseRow("not json"));
    }

    @Test
    void mainDrawsAPngFromJsonLines() throws IOException {
        Path rows = dir.resolve("sweep.jsonl");
        Files.write(rows, List.of("{\"op\":\"ceiling\",\"backend\":\"cuda\",\"gbps\":3000}",
                String.format(ROW, 64, "0.01"), String.format(ROW, 128, "0.02"), String.format(ROW, 256, "0.04")));
        Path png = dir.resolve("t.png");
        BenchPlot.main(new String[] {png.toString(), rows.toString()});
        assertArrayEquals(new byte[] {(byte) 0x89, 'P', 'N', 'G'}, Arrays.copyOf(Files.readAllBytes(png), 4));
    }

    @Test
    void noForwardRowsIsAnError() throws IOException {
        Path rows = dir.resolve("empty.jsonl");
        Files.write(rows, List.of("{\"op\":\"ceiling\",\"gflops\":1,\"gbps\":2}"));
        IOException e = assertThrows(IOException.class,
                () -> BenchPlot.main(new String[] {dir.resolve("x.png").toString(), rows.toString()}));
        assertEquals(true, e.getMessage().startsWith("no forward rows in"), e.getMessage());
    }
}
