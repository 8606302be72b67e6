package org.attnkit.backend.cuda;

import java.util.Locale;

/**
 * How the CUDA GEMMs behind {@code Linear}, {@code LinearEpilogue} and {@code MatMul} multiply, forward and
 * backward. Every choice accumulates in fp32 and is deterministic; they differ in how the operands are
 * rounded before the products:
 * <ul>
 * <li>{@link #FP32}: no rounding, CUDA-core fp32 FMAs (the default; errors like a float32 dot product,
 *     about K * 2^-24 relative at worst).</li>
 * <li>{@link #TF32}: operands rounded to tf32 (10-bit mantissa, round to nearest away from zero) on the way
 *     into the tensor cores. Expected error of an output, for operands of scale s_a and s_b: about
 *     1e-3 * sqrt(K) * s_a * s_b (each product carries a relative error up to 2^-10; the errors are
 *     independent, so they grow like sqrt(K)).</li>
 * <li>{@link #BF16}: operands rounded to bf16 (7-bit mantissa, round to nearest even): about
 *     8e-3 * sqrt(K) * s_a * s_b.</li>
 * </ul>
 * The default comes once per JVM from the system property {@value #PROPERTY} ({@code fp32}, {@code tf32} or
 * {@code bf16}, any case); {@link Cuda#setGemmPrecision} changes it at run time.
 */
public enum GemmPrecision {
    FP32(AttnkitNative.GEMM_FP32, 1.0 / (1 << 23)),
    TF32(AttnkitNative.GEMM_TF32, 1e-3),
    BF16(AttnkitNative.GEMM_BF16, 8e-3);

    /** The system property read once for the default. */
    public static final String PROPERTY = "attnkit.cuda.gemm";

    private final int code;
    private final double unitError;

    GemmPrecision(int code, double unitError) {
        this.code = code;
        this.unitError = unitError;
    }

    /** The precision code of the native {@code attnkit_gemm_ex}. */
    public int code() {
        return code;
    }

    /**
     * The expected error of one output of a K-term product of operands of unit scale: {@code unit * sqrt(K)}
     * (a typical size, not a bound; tests allow a few times more).
     */
    public double expectedError(int k) {
        return unitError * Math.sqrt(Math.max(1, k));
    }

    /** The lower-case name, as the property spells it. */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * The precision a value of {@value #PROPERTY} names: null or blank gives {@link #FP32}; anything else
     * but fp32, tf32 or bf16 (any case) is an {@link IllegalArgumentException} naming the property.
     */
    public static GemmPrecision fromProperty(String value) {
        if (value == null || value.isBlank()) {
            return FP32;
        }
        String v = value.trim();
        for (GemmPrecision p : values()) {
            if (p.id().equalsIgnoreCase(v)) {
                return p;
            }
        }
        throw new IllegalArgumentException("system property " + PROPERTY + " must be fp32, tf32 or bf16, got '"
                + value + "'");
    }
}
