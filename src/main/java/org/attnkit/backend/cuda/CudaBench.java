package org.attnkit.backend.cuda;

import java.util.Locale;
import org.attnkit.ops.dynamicconv.DynamicConv;
import org.attnkit.ops.lightconv.LightConv;
import org.attnkit.tensor.Device;
import org.attnkit.tensor.Tensor;

/**
 * Times the CUDA kernels with CUDA events at the shape (B=16 T=4096 C=1024 H=16 K=31, fp32)
 * next to a device-to-device copy of the same bytes, the bandwidth ceiling they are judged against.
 * {@code java -cp ... org.attnkit.backend.cuda.CudaBench [B T C H K] [reps]}. Needs a GPU; ran on an H200
 * (2026-12-04).
 */
public final class CudaBench {
    private CudaBench() {
    }

    public static void main(String[] args) {
        int b = args.length >= 5 ? Integer.parseInt(args[0]) : 16;
        int t = args.length >= 5 ? Integer.parseInt(args[1]) : 4096;
        int c = args.length >= 5 ? Integer.parseInt(args[2]) : 1024;
        int h = args.length >= 5 ? Integer.parseInt(args[3]) : 16;
        int k = args.length >= 5 ? Integer.parseInt(args[4]) : 31;
        int reps = args.length == 6 ? Integer.parseInt(args[5]) : 20;
        Cuda.Status s = Cuda.status();
        if (!s.available()) {
            System.out.println("CUDA unavailable: " + s.reason());
            System.exit(2);
        }
        System.out.println("devices: " + s.devices() + "; native " + s.nativeLibrary());
        Device gpu = Device.cuda(0);
        Tensor x = Tensor.randn(1, b, t, c).to(gpu);
        Tensor dy = Tensor.randn(2, b, t, c).to(gpu);
        Tensor w = Tensor.randn(3, h, k).to(gpu);
        Tensor wd = Tensor.randn(4, h * k, c).to(gpu);
        long bytes = 2L * b * t * c * Float.BYTES; // read x + write y
        Tensor copyDst = CudaTensors.empty(gpu, b, t, c);
        double copyMs = median(reps, () -> CudaTensors.time(gpu, () -> JCudaDriverApi.copyDeviceToDevice(
                CudaTensors.address(copyDst, "dst"), CudaTensors.address(x, "x"), bytes / 2)));
        report("device-to-device copy (ceiling)", copyMs, bytes, copyMs);
        LightConv.Options opt = LightConv.Options.centered(k);
        double fwd = median(reps, () -> CudaTensors.time(gpu, () -> CudaTensors.release(LightConv.apply(x, w, null, opt))));
        report("lightconv forward", fwd, bytes, copyMs);
        Tensor wg = Tensor.randn(3, h, k).to(gpu).requiresGrad(true);
        Tensor xg = Tensor.randn(1, b, t, c).to(gpu).requiresGrad(true);
        double bwd = median(reps, () -> {
            Tensor y = LightConv.apply(xg, wg, null, opt);
            xg.zeroGrad();
            wg.zeroGrad();
            float ms = CudaTensors.time(gpu, () -> y.backward(dy));
            CudaTensors.release(y);
            CudaTensors.release(xg.grad());
            return ms;
        });
        report("lightconv backward (dx + dweight)", bwd, 3L * b * t * c * Float.BYTES, copyMs);
        DynamicConv.Options dopt = DynamicConv.Options.centered(k);
        double dyn = median(reps, () -> CudaTensors.time(gpu,
                () -> CudaTensors.release(DynamicConv.apply(x, null, wd, null, h, dopt))));
        report("dynamicconv forward (fused)", dyn, bytes, copyMs);
    }

    /**
     * The device-to-device copy bandwidth of {@code device} in GB/s (bytes read + written), the median of
     * {@code reps} copies of {@code bytes} timed with CUDA events: the memory ceiling of the CUDA bench rows.
     */
    public static double copyGbps(Device device, long bytes, int reps) {
        Cuda.requireAvailable("measure the copy bandwidth of " + device);
        int floats = Math.toIntExact(bytes / Float.BYTES);
        try (CudaScope ignored = CudaScope.open()) {
            Tensor src = CudaTensors.zeros(device, floats);
            Tensor dst = CudaTensors.empty(device, floats);
            double ms = median(reps, () -> CudaTensors.time(device, () -> JCudaDriverApi.copyDeviceToDevice(
                    CudaTensors.address(dst, "dst"), CudaTensors.address(src, "src"), (long) floats * Float.BYTES)));
            return 2.0 * floats * Float.BYTES / (ms * 1e-3) / 1e9;
        }
    }

    private static void report(String what, double ms, long bytes, double copyMs) {
        System.out.printf(Locale.ROOT, "%-36s %9.3f ms  %8.1f GB/s  %5.1f%% of copy bandwidth%n", what, ms,
                bytes / (ms * 1e6), 100.0 * (bytes / ms) / ((2.0 * bytes / 2) / copyMs));
    }

    private static double median(int reps, java.util.function.Supplier<Float> run) {
        run.get(); // warm-up: module load, first-touch
        double[] v = new double[reps];
        for (int i = 0; i < reps; i++) {
            v[i] = run.get();
        }
        java.util.Arrays.sort(v);
        return v[reps / 2];
    }
}
