package org.attnkit.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class TrainCommandTest {
    @TempDir
    Path tmp;

    record Run(int code, String out, String err) {
    }

    private static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = new CommandLine(new TrainCommand());
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int code = cl.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    private static List<JsonObject> json(String out) {
        List<JsonObject> objs = new ArrayList<>();
        for (String line : out.split("\n")) {
            if (!line.isBlank()) {
                objs.add(JsonParser.parseString(line).getAsJsonObject());
            }
        }
        return objs;
    }

    @Test
    void jsonHasOneObjectPerEpochAndAFinalOne() {
        Run r = run("--task", "topic", "--steps", "40", "--epochs", "2", "--json", "--no-progress");
        assertEquals(0, r.code, r.err);
        List<JsonObject> objs = json(r.out);
        assertEquals(3, objs.size(), r.out);
        assertEquals(1, objs.get(0).get("epoch").getAsInt());
        assertEquals(20, objs.get(0).get("step").getAsInt());
        JsonObject fin = objs.get(2);
        for (String k : List.of("task", "model", "steps", "loss", "accuracy", "ms_per_step")) {
            assertTrue(fin.has(k), k + " missing in " + fin);
        }
        assertEquals("topic", fin.get("task").getAsString());
        assertEquals("single-query", fin.get("model").getAsString());
        assertEquals(40, fin.get("steps").getAsInt());
        assertTrue(fin.get("final").getAsBoolean());
        assertTrue(fin.has("topic_attention") && fin.has("identity_drift"), fin.toString());
        assertEquals(objs.get(1).get("loss").getAsDouble(), fin.get("loss").getAsDouble());
    }

    @Test
    void plotWritesAPngAndTheSummaryTableNamesEveryModel() throws Exception {
        Path png = tmp.resolve("loss.png");
        Run r = run("--task", "mae", "--steps", "4", "--epochs", "1", "--plot", png.toString(), "--no-progress");
        assertEquals(0, r.code, r.err);
        byte[] head = Arrays.copyOf(Files.readAllBytes(png), 4);
        assertArrayEquals(new byte[] {(byte) 0x89, 'P', 'N', 'G'}, head);
        for (String m : List.of("mae-bcd", "mae-joint", "attention")) {
            assertTrue(r.out.contains(m), m + " missing from\n" + r.out);
        }
        assertTrue(r.out.contains("ms/step") && r.out.contains("epoch 1"), r.out);
    }

    @Test
    void saveThenResumeContinuesFromTheCheckpointStep() {
        Path ckpt = tmp.resolve("c.safetensors");
        Run a = run("--task", "locality", "--model", "lightconv", "--steps", "3", "--save", ckpt.toString(), "--json",
                "--no-progress");
        assertEquals(0, a.code, a.err);
        Run b = run("--task", "locality", "--model", "lightconv", "--steps", "5", "--resume", ckpt.toString(), "--json",
                "--epochs", "1", "--no-progress");
        assertEquals(0, b.code, b.err);
        List<JsonObject> objs = json(b.out);
        assertEquals(5, objs.get(0).get("step").getAsInt()); // one epoch of the 2 remaining steps
        assertEquals(5, objs.get(objs.size() - 1).get("steps").getAsInt());
    }

    @Test
    void unknownTaskOrModelIsAUsageError() {
        Run r = run("--task", "nope", "--no-progress");
        assertEquals(2, r.code);
        assertTrue(r.err.contains("nope") && r.err.contains("topic"), r.err);
        r = run("--task", "locality", "--model", "lstm", "--no-progress");
        assertEquals(2, r.code);
        assertTrue(r.err.contains("lstm") && r.err.contains("lightconv"), r.err);
        r = run("--task", "locality", "--save", tmp.resolve("x").toString(), "--no-progress");
        assertEquals(2, r.code);
        assertTrue(r.err.contains("--save"), r.err);
        r = run("--task", "topic", "--steps", "0", "--no-progress");
        assertEquals(2, r.code);
        assertTrue(r.err.contains("--steps") && r.err.contains("0"), r.err);
    }
}
