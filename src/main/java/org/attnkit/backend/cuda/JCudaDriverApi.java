package org.attnkit.backend.cuda;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import jcuda.Pointer;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUevent;
import jcuda.driver.CUpointer_attribute;
import jcuda.driver.CUresult;
import jcuda.driver.CUstream;
import jcuda.driver.JCudaDriver;

/**
 * Everything attnkit takes from the CUDA driver API, through JCuda, in one class: device discovery,
 * the primary context (shared with the runtime API of the native kernels), allocation, copies,
 * synchronization and events. The only class that names JCuda types, so that JCuda stays optional:
 * nothing loads it before {@link Cuda}'s probe has succeeded (the probe itself catches its failure).
 *
 * <p>Device addresses travel as {@code long}: read with {@code cuPointerGetAttribute(...,
 * CU_POINTER_ATTRIBUTE_DEVICE_POINTER, ...)} and wrapped back with {@code withByteOffset}, both public
 * JCuda API (DESIGN: never classes planted in JCuda's package). NOT yet verified on a GPU.
 */
final class JCudaDriverApi {
    private static final CUcontext[] CONTEXTS = new CUcontext[64];
    private static boolean initialized;

    private JCudaDriverApi() {
    }

    private static synchronized void init() {
        if (!initialized) {
            check("cuInit", JCudaDriver.cuInit(0));
            initialized = true;
        }
    }

    /** One line per device: "cuda:N name, compute capability X.Y, M MiB"; throws without a driver. */
    static List<String> describeDevices() {
        init();
        int[] count = new int[1];
        check("cuDeviceGetCount", JCudaDriver.cuDeviceGetCount(count));
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < count[0]; i++) {
            CUdevice dev = new CUdevice();
            check("cuDeviceGet", JCudaDriver.cuDeviceGet(dev, i));
            byte[] name = new byte[256];
            check("cuDeviceGetName", JCudaDriver.cuDeviceGetName(name, name.length, dev));
            int len = 0;
            while (len < name.length && name[len] != 0) {
                len++;
            }
            int[] major = new int[1];
            int[] minor = new int[1];
            check("cuDeviceGetAttribute", JCudaDriver.cuDeviceGetAttribute(major,
                    CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, dev));
            check("cuDeviceGetAttribute", JCudaDriver.cuDeviceGetAttribute(minor,
                    CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, dev));
            long[] mem = new long[1];
            check("cuDeviceTotalMem", JCudaDriver.cuDeviceTotalMem(mem, dev));
            lines.add(String.format(Locale.ROOT, "cuda:%d %s, compute capability %d.%d, %d MiB", i,
                    new String(name, 0, len, StandardCharsets.UTF_8), major[0], minor[0], mem[0] >> 20));
        }
        return lines;
    }

    /** Makes the device's primary context current on this thread (the native kernels run in it). */
    static synchronized void makeCurrent(int device) {
        init();
        if (device >= CONTEXTS.length) {
            throw new IllegalArgumentException("cuda device index " + device + " is out of range");
        }
        if (CONTEXTS[device] == null) {
            CUdevice dev = new CUdevice();
            check("cuDeviceGet", JCudaDriver.cuDeviceGet(dev, device));
            CUcontext ctx = new CUcontext();
            check("cuDevicePrimaryCtxRetain", JCudaDriver.cuDevicePrimaryCtxRetain(ctx, dev));
            CONTEXTS[device] = ctx;
        }
        check("cuCtxSetCurrent", JCudaDriver.cuCtxSetCurrent(CONTEXTS[device]));
    }

    /** Allocates {@code bytes} on the current device; the raw device address. */
    static long malloc(long bytes) {
        CUdeviceptr p = new CUdeviceptr();
        int rc = JCudaDriver.cuMemAlloc(p, Math.max(bytes, 4));
        if (rc == CUresult.CUDA_ERROR_OUT_OF_MEMORY) {
            throw new CudaOutOfMemoryException("cuMemAlloc of " + bytes + " bytes: out of device memory");
        }
        check("cuMemAlloc", rc);
        long[] address = new long[1];
        check("cuPointerGetAttribute", JCudaDriver.cuPointerGetAttribute(Pointer.to(address),
                CUpointer_attribute.CU_POINTER_ATTRIBUTE_DEVICE_POINTER, p));
        return address[0];
    }

    static void free(long address) {
        check("cuMemFree", JCudaDriver.cuMemFree(ptr(address)));
    }

    static void copyToDevice(long address, float[] src) {
        check("cuMemcpyHtoD", JCudaDriver.cuMemcpyHtoD(ptr(address), Pointer.to(src), (long) src.length * Float.BYTES));
    }

    static void copyToHost(float[] dst, long address) {
        check("cuMemcpyDtoH", JCudaDriver.cuMemcpyDtoH(Pointer.to(dst), ptr(address), (long) dst.length * Float.BYTES));
    }

    static void copyDeviceToDevice(long dst, long src, long bytes) {
        check("cuMemcpyDtoD", JCudaDriver.cuMemcpyDtoD(ptr(dst), ptr(src), bytes));
    }

    static void zero(long address, long floats) {
        check("cuMemsetD32", JCudaDriver.cuMemsetD32(ptr(address), 0, floats));
    }

    static void synchronize() {
        check("cuCtxSynchronize", JCudaDriver.cuCtxSynchronize());
    }

    /** Milliseconds of GPU time {@code work} takes on the default stream, measured with two events. */
    static float time(Runnable work) {
        CUevent start = new CUevent();
        CUevent stop = new CUevent();
        check("cuEventCreate", JCudaDriver.cuEventCreate(start, 0));
        check("cuEventCreate", JCudaDriver.cuEventCreate(stop, 0));
        try {
            check("cuEventRecord", JCudaDriver.cuEventRecord(start, new CUstream()));
            work.run();
            check("cuEventRecord", JCudaDriver.cuEventRecord(stop, new CUstream()));
            check("cuEventSynchronize", JCudaDriver.cuEventSynchronize(stop));
            float[] ms = new float[1];
            check("cuEventElapsedTime", JCudaDriver.cuEventElapsedTime(ms, start, stop));
            return ms[0];
        } finally {
            JCudaDriver.cuEventDestroy(start);
            JCudaDriver.cuEventDestroy(stop);
        }
    }

    private static CUdeviceptr ptr(long address) {
        return new CUdeviceptr().withByteOffset(address);
    }

    private static void check(String call, int rc) {
        if (rc != CUresult.CUDA_SUCCESS) {
            String msg = call + " failed: " + CUresult.stringFor(rc);
            if (rc == CUresult.CUDA_ERROR_OUT_OF_MEMORY) {
                throw new CudaOutOfMemoryException(msg);
            }
            throw new CudaException(msg);
        }
    }
}
