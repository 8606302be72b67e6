package org.attnkit.bench;

import java.util.Locale;

/** What one timed call does: the forward only (no graph recorded), or the forward then the backward. */
public enum Pass {
    FWD,
    FWDBWD;

    /** "fwd" or "fwdbwd", as printed and as in the JSON. */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }
}
