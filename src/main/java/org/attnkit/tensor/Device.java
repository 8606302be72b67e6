package org.attnkit.tensor;

import java.util.Objects;

/**
 * Where a tensor's storage lives. The CPU is the only device with heap storage; CUDA devices are
 * identified by their ordinal and hold device buffers (added by the CUDA backend, through
 * {@link Storage}). Devices compare by value.
 */
public final class Device {
    /** Kinds of device. */
    public enum Kind { CPU, CUDA }

    /** The host. */
    public static final Device CPU = new Device(Kind.CPU, 0);

    private final Kind kind;
    private final int index;

    private Device(Kind kind, int index) {
        this.kind = kind;
        this.index = index;
    }

    /** The CUDA device with the given ordinal. */
    public static Device cuda(int index) {
        if (index < 0) {
            throw new IllegalArgumentException("cuda device index must be >= 0, got " + index);
        }
        return new Device(Kind.CUDA, index);
    }

    /** Parses "cpu", "cuda" (= cuda:0) or "cuda:N". */
    public static Device parse(String s) {
        Objects.requireNonNull(s, "device");
        String t = s.trim().toLowerCase(java.util.Locale.ROOT);
        if (t.equals("cpu")) {
            return CPU;
        }
        if (t.equals("cuda")) {
            return cuda(0);
        }
        if (t.startsWith("cuda:")) {
            try {
                return cuda(Integer.parseInt(t.substring(5)));
            } catch (NumberFormatException e) {
                // fall through to the error below
            }
        }
        throw new IllegalArgumentException("device must be cpu, cuda or cuda:N, got '" + s + "'");
    }

    public Kind kind() {
        return kind;
    }

    public int index() {
        return index;
    }

    public boolean isCpu() {
        return kind == Kind.CPU;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Device d && d.kind == kind && d.index == index;
    }

    @Override
    public int hashCode() {
        return kind.hashCode() * 31 + index;
    }

    @Override
    public String toString() {
        return kind == Kind.CPU ? "cpu" : "cuda:" + index;
    }
}
