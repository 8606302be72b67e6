package org.attnkit.io;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonPrimitive;
import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import java.io.IOException;
import java.io.StringReader;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.attnkit.tensor.DType;
import org.attnkit.tensor.Tensor;

/**
 * Reads and writes the safetensors format: an unsigned 64-bit little-endian header length N, N bytes of
 * UTF-8 JSON mapping each tensor name to {@code {"dtype", "shape", "data_offsets": [begin, end]}}
 * (offsets relative to the first byte after the header) plus an optional {@code __metadata__} object of
 * string values, then the raw little-endian tensor data.
 *
 * <p>attnkit reads and writes F32 and F64. Everything the reader checks fails with a
 * {@link SafeTensorsException} naming the file and the problem: a file too short for its header, a
 * header that is not strict JSON or not an object, an unknown or unsupported dtype, a bad shape, offsets
 * whose span does not match shape x element size, and offsets past the end of the data. Overlapping
 * tensors and bytes that no tensor covers are not checked.
 */
public final class SafeTensors {
    /** The header key that holds the string metadata. */
    public static final String METADATA_KEY = "__metadata__";

    /** The reference implementation refuses headers over 100 MB; a larger one is a corrupt length. */
    static final long MAX_HEADER_BYTES = 100L * 1024 * 1024;

    /** Dtypes of the format that attnkit recognizes but does not load. */
    private static final Set<String> OTHER_DTYPES = Set.of("BOOL", "U8", "I8", "I16", "U16", "F16", "BF16",
            "I32", "U32", "I64", "U64", "F8_E5M2", "F8_E4M3", "F8_E8M0", "F6_E2M3", "F6_E3M2", "F4");

    private static final Gson GSON = new GsonBuilder().disableHtmlEscaping().create();

    private SafeTensors() {
    }

    // ---------------------------------------------------------------- reading

    /** Reads every tensor and the metadata of {@code path}. */
    public static SafeTensorsFile read(Path path) throws IOException {
        String source = path.toString();
        byte[] bytes;
        try {
            if (Files.isDirectory(path)) {
                throw new SafeTensorsException(source, "is a directory, not a safetensors file");
            }
            long size = Files.size(path);
            if (size > Integer.MAX_VALUE - 16) {
                throw new SafeTensorsException(source, "file of " + size + " bytes is larger than the 2 GiB attnkit reads");
            }
            bytes = Files.readAllBytes(path);
        } catch (NoSuchFileException e) {
            throw new SafeTensorsException(source, "no such file", e);
        } catch (AccessDeniedException e) {
            throw new SafeTensorsException(source, "permission denied", e);
        } catch (SafeTensorsException e) {
            throw e;
        } catch (IOException e) {
            throw new SafeTensorsException(source, "cannot read: " + e.getMessage(), e);
        }
        return read(bytes, source);
    }

    /** Parses the bytes of a whole safetensors file; {@code source} names it in error messages. */
    public static SafeTensorsFile read(byte[] bytes, String source) throws SafeTensorsException {
        if (bytes.length < 8) {
            throw new SafeTensorsException(source, "truncated file: " + bytes.length
                    + " bytes, too short for the 8-byte header length");
        }
        ByteBuffer buf = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        long headerLength = buf.getLong(0);
        long available = bytes.length - 8L;
        if (headerLength < 0 || headerLength > available) {
            throw new SafeTensorsException(source, "header length " + Long.toUnsignedString(headerLength)
                    + " exceeds the " + available + " bytes after the length field (truncated or not a safetensors file)");
        }
        if (headerLength > MAX_HEADER_BYTES) {
            throw new SafeTensorsException(source, "header length " + headerLength + " is over the 100 MB limit");
        }
        String headerText;
        try {
            headerText = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes, 8, (int) headerLength))
                    .toString();
        } catch (CharacterCodingException e) {
            throw new SafeTensorsException(source, "header is not valid UTF-8", e);
        }
        JsonObject header = parseHeader(headerText, source);
        int dataStart = 8 + (int) headerLength;
        long dataLength = bytes.length - (long) dataStart;

        Map<String, Tensor> tensors = new LinkedHashMap<>();
        Map<String, String> metadata = new LinkedHashMap<>();
        for (Map.Entry<String, JsonElement> e : header.entrySet()) {
            String name = e.getKey();
            if (name.equals(METADATA_KEY)) {
                readMetadata(e.getValue(), metadata, source);
            } else {
                tensors.put(name, readTensor(name, e.getValue(), bytes, dataStart, dataLength, source));
            }
        }
        return new SafeTensorsFile(source, tensors, metadata);
    }

    private static JsonObject parseHeader(String text, String source) throws SafeTensorsException {
        JsonElement root;
        try (JsonReader reader = new JsonReader(new StringReader(text))) {
            // Strict: the format is JSON, and leniency would accept garbage such as unquoted names.
            reader.setStrictness(Strictness.STRICT);
            root = GSON.getAdapter(JsonElement.class).read(reader);
            if (reader.peek() != JsonToken.END_DOCUMENT) {
                throw new SafeTensorsException(source, "malformed JSON header: trailing content after the header object");
            }
        } catch (IOException | JsonParseException | IllegalStateException e) {
            if (e instanceof SafeTensorsException s) {
                throw s;
            }
            throw new SafeTensorsException(source, "malformed JSON header: " + jsonProblem(e), e);
        }
        if (root == null || !root.isJsonObject()) {
            throw new SafeTensorsException(source, "header must be a JSON object, got "
                    + (root == null ? "nothing" : abbreviate(root.toString())));
        }
        return root.getAsJsonObject();
    }

    private static void readMetadata(JsonElement value, Map<String, String> out, String source)
            throws SafeTensorsException {
        if (!value.isJsonObject()) {
            throw new SafeTensorsException(source, METADATA_KEY + " must be an object of strings, got "
                    + abbreviate(value.toString()));
        }
        for (Map.Entry<String, JsonElement> m : value.getAsJsonObject().entrySet()) {
            JsonElement v = m.getValue();
            if (!v.isJsonPrimitive() || !v.getAsJsonPrimitive().isString()) {
                throw new SafeTensorsException(source, METADATA_KEY + " value of '" + m.getKey()
                        + "' must be a string, got " + abbreviate(v.toString()));
            }
            out.put(m.getKey(), v.getAsString());
        }
    }

    private static Tensor readTensor(String name, JsonElement value, byte[] bytes, int dataStart, long dataLength,
            String source) throws SafeTensorsException {
        String what = "tensor '" + name + "'";
        if (!value.isJsonObject()) {
            throw new SafeTensorsException(source, what + " must be an object with dtype, shape and data_offsets, got "
                    + abbreviate(value.toString()));
        }
        JsonObject info = value.getAsJsonObject();
        JsonElement dtypeElement = info.get("dtype");
        if (dtypeElement == null || !dtypeElement.isJsonPrimitive() || !dtypeElement.getAsJsonPrimitive().isString()) {
            throw new SafeTensorsException(source, what + " has no dtype string");
        }
        String dtypeName = dtypeElement.getAsString();
        DType dtype = dtypeOf(dtypeName, what, source);

        long[] shapeLong = integers(info.get("shape"), "shape", what, source, -1);
        int[] shape = new int[shapeLong.length];
        long numel = 1;
        for (int i = 0; i < shape.length; i++) {
            if (shapeLong[i] < 0 || shapeLong[i] > Integer.MAX_VALUE) {
                throw new SafeTensorsException(source, what + " has invalid dimension " + shapeLong[i] + " in shape "
                        + Arrays.toString(shapeLong));
            }
            shape[i] = (int) shapeLong[i];
            numel *= shape[i];
            if (numel > Integer.MAX_VALUE) {
                throw new SafeTensorsException(source, what + " shape " + Arrays.toString(shape)
                        + " has more elements than a tensor can hold");
            }
        }

        long[] offsets = integers(info.get("data_offsets"), "data_offsets", what, source, 2);
        long begin = offsets[0];
        long end = offsets[1];
        if (begin < 0 || end < begin) {
            throw new SafeTensorsException(source, what + " has invalid data_offsets [" + begin + ", " + end
                    + "]: need 0 <= begin <= end");
        }
        long needed = numel * dtype.bytes();
        if (end - begin != needed) {
            throw new SafeTensorsException(source, what + " shape " + Arrays.toString(shape) + " of " + dtypeName
                    + " needs " + needed + " bytes but data_offsets [" + begin + ", " + end + "] span " + (end - begin));
        }
        if (end > dataLength) {
            throw new SafeTensorsException(source, what + " data_offsets [" + begin + ", " + end
                    + "] run past the end of the data section (" + dataLength + " bytes; truncated file?)");
        }

        ByteBuffer data = ByteBuffer.wrap(bytes, dataStart + (int) begin, (int) needed).slice()
                .order(ByteOrder.LITTLE_ENDIAN);
        if (dtype == DType.F32) {
            float[] v = new float[(int) numel];
            data.asFloatBuffer().get(v);
            return Tensor.wrap(v, shape);
        }
        double[] v = new double[(int) numel];
        data.asDoubleBuffer().get(v);
        return Tensor.wrap(v, shape);
    }

    private static DType dtypeOf(String name, String what, String source) throws SafeTensorsException {
        for (DType d : DType.values()) {
            if (d.safetensorsName().equals(name)) {
                return d;
            }
        }
        if (OTHER_DTYPES.contains(name)) {
            throw new SafeTensorsException(source, what + " has dtype " + name
                    + ", which attnkit does not load (supported: F32, F64); convert the file to F32");
        }
        throw new SafeTensorsException(source, what + " has unknown dtype '" + name + "'");
    }

    /** A JSON array of non-negative integers ({@code length} of them, or any number when -1). */
    private static long[] integers(JsonElement e, String field, String what, String source, int length)
            throws SafeTensorsException {
        if (e == null || !e.isJsonArray()) {
            throw new SafeTensorsException(source, what + " has no " + field + " array");
        }
        JsonArray a = e.getAsJsonArray();
        if (length >= 0 && a.size() != length) {
            throw new SafeTensorsException(source, what + " " + field + " must have " + length + " entries, got " + a);
        }
        long[] out = new long[a.size()];
        for (int i = 0; i < out.length; i++) {
            JsonElement v = a.get(i);
            try {
                if (!v.isJsonPrimitive() || !v.getAsJsonPrimitive().isNumber()) {
                    throw new ArithmeticException();
                }
                out[i] = v.getAsJsonPrimitive().getAsBigDecimal().longValueExact();
            } catch (ArithmeticException | NumberFormatException ex) {
                throw new SafeTensorsException(source, what + " " + field + " must hold integers, got " + a);
            }
            if (out[i] < 0) {
                throw new SafeTensorsException(source, what + " " + field + " must hold non-negative integers, got " + a);
            }
        }
        return out;
    }

    /** Gson's message without its advice to parse leniently and its link (one line, for users). */
    private static String jsonProblem(Exception e) {
        String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        int nl = m.indexOf('\n');
        m = nl < 0 ? m : m.substring(0, nl);
        String advice = "Use JsonReader.setStrictness(Strictness.LENIENT) to accept malformed JSON ";
        return m.startsWith(advice) ? "not valid JSON " + m.substring(advice.length()) : m;
    }

    private static String abbreviate(String s) {
        return s.length() <= 60 ? s : s.substring(0, 57) + "...";
    }

    // ---------------------------------------------------------------- writing

    /**
     * Writes {@code tensors} (CPU, F32 or F64, in map order) and {@code metadata} to {@code path}. The
     * header is compact JSON padded with spaces to a multiple of 8 bytes, like the reference writer, so
     * that the data starts aligned.
     */
    public static void write(Path path, Map<String, Tensor> tensors, Map<String, String> metadata)
            throws IOException {
        byte[] bytes = toBytes(tensors, metadata);
        try {
            Files.write(path, bytes);
        } catch (IOException e) {
            throw new SafeTensorsException(path.toString(), "cannot write: " + e.getMessage(), e);
        }
    }

    /** The bytes of a safetensors file holding {@code tensors} and {@code metadata} (which may be empty). */
    public static byte[] toBytes(Map<String, Tensor> tensors, Map<String, String> metadata) {
        if (tensors == null) {
            throw new IllegalArgumentException("safetensors: tensors must not be null");
        }
        JsonObject header = new JsonObject();
        long offset = 0;
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            String name = e.getKey();
            Tensor t = e.getValue();
            if (name == null || name.equals(METADATA_KEY)) {
                throw new IllegalArgumentException("safetensors: invalid tensor name " + name);
            }
            if (t == null) {
                throw new IllegalArgumentException("safetensors: tensor '" + name + "' is null");
            }
            if (!t.device().isCpu()) {
                throw new IllegalArgumentException("safetensors: tensor '" + name + "' is on " + t.device()
                        + "; copy it to the CPU before writing");
            }
            long size = (long) t.numel() * t.dtype().bytes();
            JsonObject info = new JsonObject();
            info.addProperty("dtype", t.dtype().safetensorsName());
            JsonArray shape = new JsonArray();
            for (int d : t.shape().toArray()) {
                shape.add(d);
            }
            info.add("shape", shape);
            JsonArray offsets = new JsonArray();
            offsets.add(offset);
            offsets.add(offset + size);
            info.add("data_offsets", offsets);
            header.add(name, info);
            offset += size;
        }
        if (metadata != null && !metadata.isEmpty()) {
            JsonObject meta = new JsonObject();
            for (Map.Entry<String, String> m : metadata.entrySet()) {
                if (m.getKey() == null || m.getValue() == null) {
                    throw new IllegalArgumentException("safetensors: metadata keys and values must not be null, got "
                            + m.getKey() + "=" + m.getValue());
                }
                meta.add(m.getKey(), new JsonPrimitive(m.getValue()));
            }
            header.add(METADATA_KEY, meta);
        }
        byte[] json = GSON.toJson(header).getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8;
        long total = 8L + padded + offset;
        if (total > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("safetensors: " + total + " bytes is larger than the 2 GiB attnkit writes");
        }
        ByteBuffer out = ByteBuffer.allocate((int) total).order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(padded);
        out.put(json);
        for (int i = json.length; i < padded; i++) {
            out.put((byte) ' ');
        }
        for (Tensor t : tensors.values()) {
            if (t.dtype() == DType.F32) {
                for (float v : t.toArray()) {
                    out.putFloat(v);
                }
            } else {
                for (double v : t.toDoubleArray()) {
                    out.putDouble(v);
                }
            }
        }
        return out.array();
    }
}
