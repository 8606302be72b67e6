package org.attnkit.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code attnkit bench} run in-process; no assertion is about speed. */
class BenchCommandTest {
    @TempDir
    Path dir;

    record Run(int exit, String out, String err) {
        List<String> lines() {
            return out.isBlank() ? List.of() : Arrays.asList(out.strip().split("\\R"));
        }
    }

    static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = new CommandLine(new BenchCommand());
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int exit = cl.execute(args);
        return new Run(exit, out.toString(), err.toString());
    }

    static final String[] REQUIRED = {"op", "backend", "pass", "B", "T", "C", "H", "K", "ms", "gflops", "gbps",
        "roofline_fraction"};

    static List<JsonObject> parse(Run r) {
        List<JsonObject> objs = new ArrayList<>();
        for (String line : r.lines()) {
            JsonElement e = JsonParser.parseString(line);
            assertTrue(e.isJsonObject(), line);
            objs.add(e.getAsJsonObject());
        }
        return objs;
    }

    @Test
    void quickJsonGivesACeilingLineThenOneParseableRowPerOpBackendAndPass() {
        Run r = run("--quick", "--json", "--op", "lightconv,softmax");
        assertEquals(0, r.exit(), r.err());
        List<JsonObject> objs = parse(r);
        JsonObject ceiling = objs.get(0);
        assertEquals("ceiling", ceiling.get("op").getAsString());
        assertTrue(ceiling.get("gflops").getAsDouble() > 0, ceiling.toString());
        assertTrue(ceiling.get("gbps").getAsDouble() > 0, ceiling.toString());
        assertEquals(Runtime.version().toString(), ceiling.get("java").getAsString());

        List<JsonObject> rows = objs.subList(1, objs.size());
        // 2 ops x 2 passes x (ref, simd, cuda)
        assertEquals(12, rows.size(), r.out());
        Set<String> seen = new HashSet<>();
        for (JsonObject o : rows) {
            for (String f : REQUIRED) {
                assertTrue(o.has(f), "missing " + f + " in " + o);
            }
            assertTrue(Set.of("fwd", "fwdbwd").contains(o.get("pass").getAsString()), o.toString());
            assertTrue(Set.of("lightconv", "softmax").contains(o.get("op").getAsString()), o.toString());
            assertArrayEquals(new int[] {2, 64, 64, 4, 7}, new int[] {o.get("B").getAsInt(), o.get("T").getAsInt(),
                o.get("C").getAsInt(), o.get("H").getAsInt(), o.get("K").getAsInt()}, o.toString());
            boolean skipped = o.get("skipped").getAsBoolean();
            if (skipped) {
                assertTrue(o.get("ms").isJsonNull(), o.toString());
                assertFalse(o.get("note").getAsString().isEmpty(), o.toString());
            } else {
                assertTrue(o.get("ms").getAsDouble() > 0, o.toString());
                // The fastest timed call: positive, and no slower than the median of the same calls.
                if (!o.get("min_ms").isJsonNull()) {
                    double min = o.get("min_ms").getAsDouble();
                    assertTrue(min > 0 && min <= o.get("ms").getAsDouble(), o.toString());
                } else {
                    assertTrue(o.get("speedup_estimated").getAsBoolean() || "ref".equals(o.get("backend").getAsString()),
                            "only a predicted reference row has no fastest call: " + o);
                }
                assertTrue(o.get("gflops").getAsDouble() > 0, o.toString());
                assertTrue(o.get("gbps").getAsDouble() > 0, o.toString());
                assertTrue(o.get("roofline_fraction").getAsDouble() > 0, o.toString());
            }
            // The CUDA GEMM precision is a field of CUDA rows only; CPU rows keep their fields.
            assertFalse(o.has("precision"), o.toString());
            seen.add(o.get("op").getAsString() + "/" + o.get("backend").getAsString() + "/"
                    + o.get("pass").getAsString());
        }
        assertEquals(12, seen.size(), seen.toString());
        // LightConv has a SIMD backend: its rows are timed; CUDA rows say why they are skipped.
        for (JsonObject o : rows) {
            String key = o.get("op").getAsString() + "/" + o.get("backend").getAsString();
            if (key.equals("lightconv/simd") || key.equals("lightconv/ref")) {
                assertFalse(o.get("skipped").getAsBoolean(), o.toString());
            }
            if (o.get("backend").getAsString().equals("cuda")) {
                assertTrue(o.get("note").getAsString().contains("CUDA"), o.toString());
            }
        }
    }

    @Test
    void opBackendAndShapeSelectWhatRuns() {
        Run r = run("--quick", "--json", "--op", "glu", "--backend", "ref", "--B", "1", "--T", "5", "--C", "6",
                "--H", "3", "--K", "3");
        assertEquals(0, r.exit(), r.err());
        List<JsonObject> rows = parse(r).subList(1, 3);
        assertEquals(2, parse(r).size() - 1, r.out());
        for (JsonObject o : rows) {
            assertEquals("glu", o.get("op").getAsString());
            assertEquals("ref", o.get("backend").getAsString());
            assertEquals(5, o.get("T").getAsInt());
            assertEquals(6, o.get("C").getAsInt());
            assertFalse(o.get("skipped").getAsBoolean(), o.toString());
            assertEquals(1.0, o.get("speedup_vs_ref").getAsDouble());
        }
        assertEquals(List.of("fwd", "fwdbwd"), rows.stream().map(o -> o.get("pass").getAsString()).toList());
    }

    @Test
    void theTableHasAHeaderAndOneLinePerRow() {
        Run r = run("--quick", "--op", "layernorm", "--backend", "simd");
        assertEquals(0, r.exit(), r.err());
        List<String> lines = r.lines();
        assertTrue(lines.get(0).startsWith("ceilings (Java " + Runtime.version() + ","), lines.get(0));
        assertTrue(lines.get(1).contains("median_ms") && lines.get(1).contains("roofline"), lines.get(1));
        assertEquals(4, lines.size(), r.out());
        assertTrue(lines.get(2).startsWith("layernorm") && lines.get(2).contains("simd"), lines.get(2));
        assertTrue(lines.get(3).contains("fwdbwd"), lines.get(3));
    }

    @Test
    void aBadOpNameIsAClearUsageError() {
        Run r = run("--quick", "--op", "lightconv,flashconv");
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("'flashconv'"), r.err());
        assertTrue(r.err().contains("lightconv, dynamicconv, attention"), r.err());
        assertTrue(r.out().isEmpty(), "nothing is measured: " + r.out());
    }

    @Test
    void aBadShapeOrAnUnavailableBackendIsAUsageError() {
        Run shape = run("--quick", "--C", "10", "--H", "4");
        assertEquals(2, shape.exit());
        assertTrue(shape.err().contains("C = 10") && shape.err().contains("H = 4"), shape.err());

        Run cuda = run("--quick", "--backend", "cuda");
        assertEquals(2, cuda.exit());
        assertTrue(cuda.err().contains("--backend cuda") && cuda.err().contains("CUDA"), cuda.err());

        Run backend = run("--quick", "--backend", "gpu");
        assertEquals(2, backend.exit());
        assertTrue(backend.err().contains("gpu"), backend.err());
    }

    @Test
    void plotWritesAPng() throws IOException {
        Path png = dir.resolve("t.png");
        Run r = run("--quick", "--op", "lightconv", "--backend", "ref", "--plot", png.toString(), "--plot-T", "8,16,32");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("plot: 1 series"), r.out());
        byte[] head = Arrays.copyOf(Files.readAllBytes(png), 4);
        assertArrayEquals(new byte[] {(byte) 0x89, 'P', 'N', 'G'}, head);
    }

    @Test
    void thePlottedPointsArePrintedToo() {
        Path png = dir.resolve("points.png");
        Run r = run("--quick", "--json", "--op", "lightconv", "--backend", "ref", "--plot", png.toString(),
                "--plot-T", "8,16");
        assertEquals(0, r.exit(), r.err());
        List<com.google.gson.JsonObject> points = r.lines().stream()
                .map(l -> com.google.gson.JsonParser.parseString(l).getAsJsonObject())
                .filter(o -> o.has("plot") && o.get("plot").getAsBoolean()).toList();
        assertEquals(List.of(8, 16), points.stream().map(o -> o.get("T").getAsInt()).toList(), r.out());
        for (com.google.gson.JsonObject o : points) {
            assertEquals("lightconv", o.get("op").getAsString());
            assertEquals("fwd", o.get("pass").getAsString());
            assertTrue(o.get("ms").getAsDouble() > 0, o.toString());
        }
    }

    @Test
    void cudaWithoutAGpuSaysWhyAndExitsTwoBeforeMeasuringOrPlotting() {
        org.junit.jupiter.api.Assumptions.assumeFalse(org.attnkit.backend.cuda.Cuda.isAvailable(), "a GPU is present");
        Path png = dir.resolve("gpu.png");
        Run r = run("--quick", "--backend", "cuda", "--op", "gemm,attention", "--plot", png.toString());
        assertEquals(Main.EXIT_USAGE, r.exit());
        assertTrue(r.err().contains("--backend cuda: CUDA unavailable (") && r.err().contains(")"), r.err());
        assertTrue(r.out().isEmpty(), "nothing is measured: " + r.out());
        assertFalse(Files.exists(png), "no plot without CUDA");
        Run json = run("--quick", "--json", "--backend", "cuda");
        assertEquals(Main.EXIT_USAGE, json.exit());
        assertTrue(json.out().isEmpty(), json.out());
    }

    @Test
    void withoutAGpuTheDefaultBackendsGiveSkippedCudaRowsOnly() {
        org.junit.jupiter.api.Assumptions.assumeFalse(org.attnkit.backend.cuda.Cuda.isAvailable(), "a GPU is present");
        Run r = run("--quick", "--json", "--op", "gemm", "--backend", "all");
        assertEquals(0, r.exit(), r.err());
        List<JsonObject> objs = parse(r);
        // one ceiling line (the CPU's), then gemm x (fwd, fwdbwd) x (ref, simd, cuda): no headline rows
        assertEquals(1, objs.stream().filter(o -> o.get("op").getAsString().equals("ceiling")).count(), r.out());
        assertEquals(7, objs.size(), r.out());
        for (JsonObject o : objs.subList(1, objs.size())) {
            if (o.get("backend").getAsString().equals("cuda")) {
                assertTrue(o.get("skipped").getAsBoolean(), o.toString());
                assertTrue(o.get("note").getAsString().startsWith("skipped: CUDA unavailable ("), o.toString());
            }
        }
    }

    @Test
    void cudaRowsCarryTheirPrecisionInTheJson() {
        org.attnkit.bench.BenchShape shape = new org.attnkit.bench.BenchShape(1, 8192, 8192, 1, 1);
        org.attnkit.bench.BenchRunner.Row row = new org.attnkit.bench.BenchRunner.Row(org.attnkit.bench.BenchOp.GEMM,
                org.attnkit.backend.Backend.CUDA, org.attnkit.bench.Pass.FWD, shape, 2.0 * Math.pow(8192, 3), 1e9,
                2.0, 10, Double.NaN, false, "CUDA events", new org.attnkit.bench.Ceilings(395_000, 3000), "tf32");
        JsonObject o = BenchCommand.toJson(row);
        assertEquals("tf32", o.get("precision").getAsString());
        assertEquals("cuda", o.get("backend").getAsString());
        // 1.1 PFLOP in 2 ms = 549.8 TFLOP/s; the tf32 ceiling 395 TFLOP/s binds: fraction 1.39 (an impossible
        // speed, but the arithmetic is what is tested)
        assertEquals(549_756, o.get("gflops").getAsDouble(), 1);
        assertEquals(549_756.0 / 395_000, o.get("roofline_fraction").getAsDouble(), 1e-4);
        assertTrue(BenchCommand.format(row).contains("cuda"), BenchCommand.format(row));
    }
}
