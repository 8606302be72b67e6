package org.attnkit.backend;

import java.util.Locale;

/** The implementations an operator can run on. */
public enum Backend {
    /** Plain scalar Java accumulating in double: the definition of every operator. */
    REF,
    /** Vector API kernels on a thread pool: the default for CPU tensors where an operator has them. */
    SIMD,
    /** The project's CUDA kernels, for tensors on a CUDA device. */
    CUDA;

    /** Lower-case name as used on the command line and in system properties. */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Parses "ref", "simd" or "cuda" (any case). */
    public static Backend parse(String s) {
        for (Backend b : values()) {
            if (b.id().equalsIgnoreCase(s == null ? "" : s.trim())) {
                return b;
            }
        }
        throw new IllegalArgumentException("backend must be one of ref, simd, cuda; got '" + s + "'");
    }
}
