package org.attnkit.cli;

import java.util.List;

/**
 * What the CLI knows about CUDA, in one place so that the CUDA backend's probe plugs in here: today
 * there is no CUDA backend, so CUDA is always unavailable with that reason.
 */
final class CudaStatus {
    /** Whether CUDA can run ops, why not, and a line per device when it can. */
    record Probe(boolean available, String reason, List<String> devices) {
    }

    private CudaStatus() {
    }

    static Probe probe() {
        return new Probe(false, "the CUDA backend is not built yet", List.of());
    }
}
