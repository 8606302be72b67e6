package org.attnkit.cli;

import java.util.List;
import org.attnkit.backend.cuda.Cuda;

/**
 * What the CLI knows about CUDA, in one place: the CUDA backend's probe ({@link Cuda#status()}), which
 * says why CUDA is unavailable (native library not built, no driver, JCuda missing, no device).
 */
final class CudaStatus {
    /** Whether CUDA can run ops, why not, and a line per device when it can. */
    record Probe(boolean available, String reason, List<String> devices) {
    }

    private CudaStatus() {
    }

    static Probe probe() {
        try {
            Cuda.Status s = Cuda.status();
            return new Probe(s.available(), s.reason(), s.devices());
        } catch (Throwable t) {
            // The probe never throws; this guards the CLI against a broken class path (e.g. no javacpp jar).
            return new Probe(false, "the CUDA backend could not be probed: " + t, List.of());
        }
    }
}
