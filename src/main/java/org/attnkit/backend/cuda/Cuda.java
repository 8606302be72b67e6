package org.attnkit.backend.cuda;

import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.Loader;

/**
 * Whether the CUDA backend can run here, and why not. The probe runs once per JVM and never throws:
 * <ol>
 *   <li>the attnkit JNI library ({@link AttnkitNative}): present in the jar only where the build had
 *       nvcc; it links the CUDA runtime statically, so it loads without a driver and then reports the
 *       runtime's own reason (for example "insufficient driver") for seeing no device;</li>
 *   <li>the JCuda driver API (an optional dependency): absent from the class path, or failing to load
 *       {@code libcuda.so.1} where there is no driver.</li>
 * </ol>
 * CUDA is available when both see at least one device.
 */
public final class Cuda {
    /** Where the build puts the JNI library inside the jar. */
    static final String JNI_RESOURCE = "org/attnkit/backend/cuda/" + platform() + "/"
            + System.mapLibraryName("jniAttnkitNative");

    /**
     * The probe's result.
     *
     * @param available whether CUDA tensors and kernels can be used
     * @param reason why not (empty when available)
     * @param devices one line per device the driver sees (name, compute capability, memory)
     * @param nativeLibrary what became of the attnkit JNI library: "loaded (CUDA runtime N)", or why not
     * @param driver what became of the JCuda driver API: "N device(s)", or why not
     */
    public record Status(boolean available, String reason, List<String> devices, String nativeLibrary,
            String driver) {
    }

    private static volatile Status status;
    /** Null until first read: then the property's value, or what {@link #setGemmPrecision} set. */
    private static volatile GemmPrecision gemmPrecision;

    private Cuda() {
    }

    /** The probe's result (probing on first use). */
    public static Status status() {
        Status s = status;
        if (s == null) {
            synchronized (Cuda.class) {
                s = status;
                if (s == null) {
                    s = probe();
                    status = s;
                }
            }
        }
        return s;
    }

    /** True when CUDA tensors and kernels can be used. */
    public static boolean isAvailable() {
        return status().available();
    }

    /** Throws {@link CudaUnavailableException} naming {@code what} and the probe's reason unless available. */
    public static void requireAvailable(String what) {
        Status s = status();
        if (!s.available()) {
            throw new CudaUnavailableException(what + ": CUDA is unavailable (" + s.reason() + ")");
        }
    }

    /**
     * The precision of the CUDA GEMMs (Linear, LinearEpilogue, MatMul; forward and backward): what
     * {@link #setGemmPrecision} set last, else the system property {@value GemmPrecision#PROPERTY} read on the
     * first call (default {@link GemmPrecision#FP32}).
     *
     * @throws IllegalArgumentException naming the property when its value is not fp32, tf32 or bf16 (again on
     *     every call until it is fixed or a precision is set)
     */
    public static GemmPrecision gemmPrecision() {
        GemmPrecision p = gemmPrecision;
        if (p == null) {
            synchronized (Cuda.class) {
                p = gemmPrecision;
                if (p == null) {
                    p = GemmPrecision.fromProperty(System.getProperty(GemmPrecision.PROPERTY));
                    gemmPrecision = p;
                }
            }
        }
        return p;
    }

    /**
     * Sets the precision of the CUDA GEMMs for the whole JVM (all threads), overriding the property; returns
     * the previous one, for a try/finally restore (FP32 when the previous came from an invalid property).
     */
    public static GemmPrecision setGemmPrecision(GemmPrecision precision) {
        if (precision == null) {
            throw new IllegalArgumentException("setGemmPrecision: precision must not be null (FP32, TF32 or BF16)");
        }
        synchronized (Cuda.class) {
            GemmPrecision previous = gemmPrecision;
            gemmPrecision = precision;
            if (previous != null) {
                return previous;
            }
            try {
                return GemmPrecision.fromProperty(System.getProperty(GemmPrecision.PROPERTY));
            } catch (IllegalArgumentException e) {
                return GemmPrecision.FP32;
            }
        }
    }

    private static Status probe() {
        List<String> reasons = new ArrayList<>();
        String nativeLibrary;
        boolean nativeOk = false;
        try {
            Class.forName("org.attnkit.backend.cuda.AttnkitNative", true, Cuda.class.getClassLoader());
            int version = AttnkitNative.attnkit_runtime_version();
            int[] count = new int[1];
            int rc = AttnkitNative.attnkit_device_count(count);
            if (rc == AttnkitNative.OK) {
                nativeOk = true;
                nativeLibrary = "loaded (CUDA runtime " + version + ", " + count[0] + " device(s))";
            } else {
                String msg = NativeCalls.lastError();
                nativeLibrary = "loaded (CUDA runtime " + version + ") but " + msg;
                reasons.add("the CUDA runtime sees no usable device: " + msg);
            }
        } catch (Throwable t) {
            // UnsatisfiedLinkError / NoClassDefFoundError / ExceptionInInitializerError: not built or not loadable.
            boolean inJar = Cuda.class.getClassLoader().getResource(JNI_RESOURCE) != null;
            nativeLibrary = inJar
                    ? "present but failed to load: " + describe(t)
                    : "not built: " + JNI_RESOURCE + " is not on the class path (the build had no nvcc, "
                            + "or ran with -P '!cuda')";
            reasons.add("attnkit native library " + nativeLibrary);
        }

        String driver;
        List<String> devices = List.of();
        boolean driverOk = false;
        try {
            devices = DriverProbe.devices();
            driverOk = !devices.isEmpty();
            driver = devices.size() + " device(s)";
            if (!driverOk) {
                reasons.add("the CUDA driver reports no device");
            }
        } catch (Throwable t) {
            driver = "unavailable: " + describe(t);
            reasons.add("JCuda driver API " + driver);
        }
        boolean available = nativeOk && driverOk;
        return new Status(available, available ? "" : String.join("; ", reasons), devices, nativeLibrary, driver);
    }

    /** Kept apart so that a missing JCuda fails here, as a catchable LinkageError. */
    private static final class DriverProbe {
        static List<String> devices() {
            return JCudaDriverApi.describeDevices();
        }
    }

    static String describe(Throwable t) {
        Throwable root = t;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String msg = root.getMessage();
        return root.getClass().getSimpleName() + (msg == null ? "" : ": " + firstLine(msg));
    }

    private static String firstLine(String s) {
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    private static String platform() {
        try {
            return Loader.getPlatform();
        } catch (Throwable t) {
            return "linux-x86_64";
        }
    }
}
