package org.attnkit.io;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.attnkit.tensor.Tensor;

/**
 * The contents of one safetensors file: its tensors by name in file order, and the string metadata of
 * its {@code __metadata__} entry. The lookups fail with messages naming the file, so that a caller
 * that needs a tensor or a key can report a bad file in one line.
 */
public final class SafeTensorsFile {
    private final String source;
    private final Map<String, Tensor> tensors;
    private final Map<String, String> metadata;

    /** {@code source} names where the contents came from (a path), for messages. */
    public SafeTensorsFile(String source, Map<String, Tensor> tensors, Map<String, String> metadata) {
        this.source = source;
        this.tensors = Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
        this.metadata = Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
    }

    /** The file the contents were read from. */
    public String source() {
        return source;
    }

    /** All tensors, by name, in the order of the file's header. */
    public Map<String, Tensor> tensors() {
        return tensors;
    }

    /** Names of the tensors in file order. */
    public List<String> names() {
        return List.copyOf(tensors.keySet());
    }

    /** The {@code __metadata__} strings (empty when the file has none). */
    public Map<String, String> metadata() {
        return metadata;
    }

    public boolean has(String name) {
        return tensors.containsKey(name);
    }

    /** The tensor called {@code name}, or null when the file has none. */
    public Tensor optional(String name) {
        return tensors.get(name);
    }

    /** The tensor called {@code name}; a missing one is an error naming the file and the tensor. */
    public Tensor tensor(String name) {
        Tensor t = tensors.get(name);
        if (t == null) {
            throw new IllegalArgumentException(source + ": missing tensor '" + name + "' (the file has "
                    + tensors.keySet() + ")");
        }
        return t;
    }

    /** The metadata value of {@code key}; a missing key is an error naming the file and the key. */
    public String meta(String key) {
        String v = metadata.get(key);
        if (v == null) {
            throw new IllegalArgumentException(source + ": missing metadata key '" + key + "' in __metadata__");
        }
        return v;
    }

    /** The metadata value of {@code key} parsed as an int, with an error naming the file on bad text. */
    public int metaInt(String key) {
        String v = meta(key);
        try {
            return Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(source + ": metadata " + key + " must be an integer, got '" + v + "'");
        }
    }

    /** The metadata value of {@code key} parsed as "true" or "false" (any case). */
    public boolean metaBoolean(String key) {
        String v = meta(key).trim();
        if (v.equalsIgnoreCase("true")) {
            return true;
        }
        if (v.equalsIgnoreCase("false")) {
            return false;
        }
        throw new IllegalArgumentException(source + ": metadata " + key + " must be true or false, got '" + v + "'");
    }

    @Override
    public String toString() {
        return "SafeTensorsFile[" + source + ", tensors " + tensors.keySet() + ", metadata " + metadata + "]";
    }
}
