package org.attnkit.io;

import java.io.IOException;

/**
 * A file that is not a valid safetensors file, or holds something attnkit cannot load. The message
 * names the file and the problem ({@code "x.safetensors: header length 4096 exceeds ..."}).
 */
public class SafeTensorsException extends IOException {
    private static final long serialVersionUID = 1L;

    private final String source;

    public SafeTensorsException(String source, String problem) {
        super(source + ": " + problem);
        this.source = source;
    }

    public SafeTensorsException(String source, String problem, Throwable cause) {
        super(source + ": " + problem, cause);
        this.source = source;
    }

    /** The file (or other source) that was being read or written. */
    public String source() {
        return source;
    }
}
