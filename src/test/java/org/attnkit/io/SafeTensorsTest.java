package org.attnkit.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.attnkit.tensor.DType;
import org.attnkit.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafeTensorsTest {
    @TempDir
    Path dir;

    // ---------------------------------------------------------------- round trip and layout

    @Test
    void roundTripKeepsNamesInOrderShapesValuesDtypesAndMetadata() throws IOException {
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        tensors.put("zeta", Tensor.randn(1, 2, 3, 5));                     // not alphabetical on purpose
        tensors.put("alpha", Tensor.of(new double[] {Math.PI, -1e-300, 7}, 3)); // F64 survives as F64
        tensors.put("scalar", Tensor.scalar(-0.5f));                        // rank 0
        tensors.put("empty", Tensor.zeros(0, 4));                           // no bytes at all
        tensors.put("odd", Tensor.randn(2, 7));                             // 28 bytes: unaligned after it
        Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put("op", "lightconv");
        metadata.put("quote\"and=unicode", "π <&> \n");
        Path file = dir.resolve("round.safetensors");

        SafeTensors.write(file, tensors, metadata);
        SafeTensorsFile read = SafeTensors.read(file);

        assertEquals(List.of("zeta", "alpha", "scalar", "empty", "odd"), read.names());
        assertEquals(metadata, read.metadata());
        assertEquals(file.toString(), read.source());
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            Tensor want = e.getValue();
            Tensor got = read.tensor(e.getKey());
            assertEquals(want.shape(), got.shape(), e.getKey());
            assertEquals(want.dtype(), got.dtype(), e.getKey());
            assertArrayEquals(want.toDoubleArray(), got.toDoubleArray(), 0.0, e.getKey());
        }
    }

    @Test
    void writerProducesTheReferenceLayoutByteForByte() {
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        tensors.put("a", Tensor.of(new float[] {1.5f, -2f}, 2));
        tensors.put("b", Tensor.of(new double[] {0.25}, 1, 1));
        byte[] got = SafeTensors.toBytes(tensors, Map.of("k", "v"));

        // What torch_ref.py's save() writes: compact JSON, __metadata__ last, spaces to a multiple of 8.
        String json = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F64\",\"shape\":[1,1],\"data_offsets\":[8,16]},"
                + "\"__metadata__\":{\"k\":\"v\"}}";
        int padded = (json.length() + 7) / 8 * 8;
        ByteBuffer want = ByteBuffer.allocate(8 + padded + 16).order(ByteOrder.LITTLE_ENDIAN);
        want.putLong(padded).put(json.getBytes(StandardCharsets.US_ASCII));
        while (want.position() < 8 + padded) {
            want.put((byte) ' ');
        }
        want.putFloat(1.5f).putFloat(-2f).putDouble(0.25);
        assertTrue(padded > json.length(), "the example must exercise the padding");
        assertArrayEquals(want.array(), got);
    }

    @Test
    void writerOmitsEmptyMetadata() {
        byte[] bytes = SafeTensors.toBytes(Map.of("a", Tensor.zeros(1)), Map.of());
        String header = new String(bytes, 8, (int) ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong(0),
                StandardCharsets.UTF_8);
        assertTrue(!header.contains(SafeTensors.METADATA_KEY), header);
    }

    @Test
    void readsASharedGoldenFile() throws IOException {
        Path file = Path.of("src/test/resources/golden/lightconv_small_centered.safetensors");
        SafeTensorsFile f = SafeTensors.read(file);

        assertEquals(List.of("x", "weight", "y", "grad_y", "grad_x", "grad_weight"), f.names());
        assertArrayEquals(new int[] {2, 9, 8}, f.tensor("x").shape().toArray());
        assertArrayEquals(new int[] {2, 3}, f.tensor("weight").shape().toArray());
        assertEquals("lightconv", f.metadata().get("op"));
        assertEquals(2, f.metaInt("heads"));
        assertEquals(3, f.metaInt("kernel_size"));
        assertTrue(f.metaBoolean("weight_softmax"));
        assertEquals(DType.F32, f.tensor("y").dtype());

        // Every value, decoded independently from the raw bytes with the header's offsets.
        byte[] raw = Files.readAllBytes(file);
        ByteBuffer buf = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN);
        int n = (int) buf.getLong(0);
        JsonObject header = JsonParser.parseString(new String(raw, 8, n, StandardCharsets.UTF_8)).getAsJsonObject();
        for (String name : f.names()) {
            int begin = header.getAsJsonObject(name).getAsJsonArray("data_offsets").get(0).getAsInt();
            float[] values = f.tensor(name).toArray();
            for (int i = 0; i < values.length; i++) {
                assertEquals(buf.getFloat(8 + n + begin + 4 * i), values[i], 0f, name + "[" + i + "]");
            }
        }
    }

    // ---------------------------------------------------------------- malformed files

    /** A file whose length field is the header's true length, followed by {@code dataBytes} zero bytes. */
    private Path file(String name, String header, int dataBytes) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        return bytes(name, h.length, h, dataBytes);
    }

    private Path bytes(String name, long lengthField, byte[] header, int dataBytes) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(8 + header.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(lengthField).put(header);
        Path p = dir.resolve(name);
        Files.write(p, b.array());
        return p;
    }

    private static void assertRejected(Path p, String... fragments) {
        SafeTensorsException e = assertThrows(SafeTensorsException.class, () -> SafeTensors.read(p));
        assertTrue(e.getMessage().startsWith(p.toString() + ": "), e.getMessage());
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "'" + f + "' not in: " + e.getMessage());
        }
    }

    @Test
    void rejectsAFileTooShortForTheLengthField() throws IOException {
        Path p = dir.resolve("short.safetensors");
        Files.write(p, new byte[] {1, 2, 3, 4, 5});
        assertRejected(p, "truncated", "5 bytes");
    }

    @Test
    void rejectsAHeaderLengthLargerThanTheFile() throws IOException {
        Path p = bytes("long.safetensors", 4096, "{}".getBytes(StandardCharsets.UTF_8), 0);
        assertRejected(p, "header length 4096", "exceeds the 2 bytes");
    }

    @Test
    void rejectsAHeaderLengthWithTheTopBitSet() throws IOException {
        Path p = bytes("huge.safetensors", -1L, "{}".getBytes(StandardCharsets.UTF_8), 0);
        assertRejected(p, "header length 18446744073709551615");
    }

    @Test
    void rejectsMalformedJson() throws IOException {
        Path p = file("json.safetensors", "{\"a\": {\"dtype\": \"F32\",", 0);
        assertRejected(p, "malformed JSON header");
        SafeTensorsException e = assertThrows(SafeTensorsException.class, () -> SafeTensors.read(p));
        assertTrue(!e.getMessage().contains("\n") && !e.getMessage().contains("LENIENT"), e.getMessage());
    }

    @Test
    void rejectsUnquotedNamesThatLenientJsonWouldAccept() throws IOException {
        assertRejected(file("lenient.safetensors", "{a:{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]}}", 4),
                "malformed JSON header");
    }

    @Test
    void rejectsTrailingContentAfterTheHeaderObject() throws IOException {
        assertRejected(file("trailing.safetensors", "{} {}", 0), "malformed JSON header", "column 5");
    }

    @Test
    void rejectsAHeaderThatIsNotAnObject() throws IOException {
        assertRejected(file("array.safetensors", "[1, 2]", 0), "header must be a JSON object", "[1,2]");
    }

    @Test
    void rejectsAnUnknownDtype() throws IOException {
        assertRejected(file("dtype.safetensors", "{\"w\":{\"dtype\":\"F33\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4),
                "tensor 'w'", "unknown dtype 'F33'");
    }

    @Test
    void rejectsAnUnsupportedDtypeNamingIt() throws IOException {
        assertRejected(file("f16.safetensors", "{\"w\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4),
                "tensor 'w'", "dtype F16", "supported: F32, F64");
    }

    @Test
    void rejectsOffsetsThatDoNotMatchShapeTimesElementSize() throws IOException {
        assertRejected(file("span.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,20]}}", 24),
                "tensor 'w'", "needs 24 bytes", "span 20");
    }

    @Test
    void rejectsOffsetsPastTheEndOfTheData() throws IOException {
        assertRejected(file("outside.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[6],\"data_offsets\":[0,24]}}", 16),
                "tensor 'w'", "[0, 24]", "past the end of the data section (16 bytes");
    }

    @Test
    void rejectsReversedOffsets() throws IOException {
        assertRejected(file("reversed.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}", 8),
                "tensor 'w'", "[8, 0]");
    }

    @Test
    void rejectsANonIntegerOrNegativeShape() throws IOException {
        assertRejected(file("frac.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[2.5],\"data_offsets\":[0,8]}}", 8),
                "tensor 'w'", "shape must hold integers", "2.5");
        assertRejected(file("neg.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8),
                "tensor 'w'", "non-negative", "-2");
    }

    @Test
    void rejectsATensorEntryWithoutDtypeOrOffsets() throws IOException {
        assertRejected(file("nodtype.safetensors", "{\"w\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4),
                "tensor 'w'", "no dtype");
        assertRejected(file("nooffsets.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4),
                "tensor 'w'", "no data_offsets");
        assertRejected(file("threeoffsets.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]}}", 8),
                "tensor 'w'", "data_offsets must have 2 entries");
    }

    @Test
    void rejectsMetadataValuesThatAreNotStrings() throws IOException {
        assertRejected(file("meta.safetensors", "{\"__metadata__\":{\"heads\":4}}", 0), "__metadata__", "'heads'",
                "must be a string");
    }

    @Test
    void rejectsAHeaderThatIsNotUtf8() throws IOException {
        byte[] h = {'{', '"', (byte) 0xC3, (byte) 0x28, '"', ':', '1', '}'};
        assertRejected(bytes("utf8.safetensors", h.length, h, 0), "not valid UTF-8");
    }

    @Test
    void reportsAMissingFileAsSuch() {
        assertRejected(dir.resolve("absent.safetensors"), "no such file");
    }

    @Test
    void reportsADirectoryAsSuch() {
        assertRejected(dir, "is a directory");
    }

    // ---------------------------------------------------------------- writer and lookups

    @Test
    void writerRejectsTheMetadataKeyAsATensorNameAndNullTensors() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SafeTensors.toBytes(Map.of(SafeTensors.METADATA_KEY, Tensor.zeros(1)), Map.of()));
        assertTrue(e.getMessage().contains("invalid tensor name __metadata__"), e.getMessage());
        Map<String, Tensor> withNull = new LinkedHashMap<>();
        withNull.put("w", null);
        e = assertThrows(IllegalArgumentException.class, () -> SafeTensors.toBytes(withNull, Map.of()));
        assertTrue(e.getMessage().contains("tensor 'w' is null"), e.getMessage());
    }

    @Test
    void lookupsNameTheFileAndWhatIsMissingOrMalformed() {
        SafeTensorsFile f = new SafeTensorsFile("case.safetensors", Map.of("x", Tensor.zeros(1)),
                Map.of("heads", "four", "causal", "yes"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> f.tensor("weight"));
        assertTrue(e.getMessage().startsWith("case.safetensors: missing tensor 'weight'"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> f.meta("op"));
        assertTrue(e.getMessage().startsWith("case.safetensors: missing metadata key 'op'"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> f.metaInt("heads"));
        assertTrue(e.getMessage().contains("heads must be an integer, got 'four'"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> f.metaBoolean("causal"));
        assertTrue(e.getMessage().contains("causal must be true or false, got 'yes'"), e.getMessage());
    }
}
