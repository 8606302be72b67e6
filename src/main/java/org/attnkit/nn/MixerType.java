package org.attnkit.nn;

import java.util.Locale;

/** The token mixer of an encoder layer. */
public enum MixerType {
    ATTENTION("attention"),
    LIGHTCONV("lightconv"),
    DYNAMICCONV("dynamicconv"),
    MAE("mae"),
    SUMMARY("summarymixing"),
    TALKING("talkingheads");

    public final String id;

    MixerType(String id) {
        this.id = id;
    }

    /** Parses an id (case-insensitive). */
    public static MixerType parse(String s) {
        for (MixerType m : values()) {
            if (m.id.equalsIgnoreCase(s) || m.name().equalsIgnoreCase(s)) {
                return m;
            }
        }
        StringBuilder ids = new StringBuilder();
        for (MixerType m : values()) {
            ids.append(ids.length() == 0 ? "" : ", ").append(m.id);
        }
        throw new IllegalArgumentException("unknown model '" + s + "'; expected one of " + ids.toString()
                .toLowerCase(Locale.ROOT));
    }
}
