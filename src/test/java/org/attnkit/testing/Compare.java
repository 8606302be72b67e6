package org.attnkit.testing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.Locale;
import org.attnkit.backend.Backend;
import org.attnkit.backend.Backends;
import org.attnkit.tensor.Tensor;

/** Tolerance comparisons shared by the backend-equivalence tests. */
public final class Compare {
    private Compare() {
    }

    /**
     * Asserts |a - r| <= atol * scale + rtol * |r| elementwise, where scale = max(1, max |r|): the
     * absolute part follows the output's magnitude, since float32 sums of many terms lose bits in
     * proportion to it.
     */
    public static void close(String what, Tensor ref, Tensor actual, double atol, double rtol) {
        assertArrayEquals(ref.shape().toArray(), actual.shape().toArray(), what + ": shape");
        double[] r = ref.toDoubleArray();
        double[] a = actual.toDoubleArray();
        double scale = 1;
        for (double v : r) {
            scale = Math.max(scale, Math.abs(v));
        }
        for (int i = 0; i < r.length; i++) {
            double err = Math.abs(a[i] - r[i]);
            if (!(err <= atol * scale + rtol * Math.abs(r[i]))) {
                fail(String.format(Locale.ROOT, "%s: element %d of %s: expected %.8g, got %.8g (|err| %.3g, scale %.3g)",
                        what, i, ref.shape(), r[i], a[i], err, scale));
            }
        }
    }

    /** Runs {@code body} with {@code backend} pinned on this thread. */
    public static <T> T on(Backend backend, java.util.function.Supplier<T> body) {
        try (Backends.Scope s = Backends.force(backend)) {
            return body.get();
        }
    }
}
