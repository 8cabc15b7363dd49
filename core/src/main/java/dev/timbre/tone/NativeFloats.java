package dev.timbre.tone;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A new float32 CPU array that Java fills in place: {@code aoti_torch_empty_strided} allocates it in libtorch and
 * {@code aoti_torch_get_data_ptr} gives its memory ({@link TorchCShim}).
 *
 * <p>Why: DJL's {@code create(float[])} takes a Java array, copies it into a direct buffer and that into the
 * tensor, so a 3 s clip's 268 KB of samples went through the Java heap and a direct buffer on every call. Neither
 * is freed before a garbage collection, so while the collector grew the young generation each call touched about
 * 0.5 MB of pages never touched before: 110-180 page faults per call, the spectrogram twice as slow for seconds at
 * a time. Written here, the samples are one copy into memory libtorch reuses.
 *
 * <p>Thread-safe. Where the loaded libtorch lacks one of these symbols, or the manager is not a CPU PyTorch manager,
 * {@link #available} is false and the caller builds the array the DJL way.
 */
final class NativeFloats {
    private static final Logger LOG = LoggerFactory.getLogger(NativeFloats.class);
    private static final String EMPTY = "aoti_torch_empty_strided";
    private static final String DATA = "aoti_torch_get_data_ptr";
    private static final String FLOAT32 = "aoti_torch_dtype_float32";
    private static final String CPU = "aoti_torch_device_type_cpu";

    private NativeFloats() {
    }

    /** An uninitialised array and its memory, {@code length} floats long; write every element before use. */
    record Writable(NDArray array, MemorySegment data) {
    }

    /** Whether {@link #create} can serve {@code manager}. */
    static boolean available(NDManager manager) {
        return Shim.LINKED && manager instanceof PtNDManager
                && Device.Type.CPU.equals(manager.getDevice().getDeviceType());
    }

    /**
     * An uninitialised 1-D float32 array of {@code length} in {@code manager}, freed with it.
     *
     * @throws IllegalStateException if libtorch reports an error, or the shim is not linked
     */
    @SuppressWarnings("restricted") // reinterpret: the size is the array's, which libtorch just allocated
    static Writable create(NDManager manager, long length) {
        if (!Shim.LINKED) {
            throw new IllegalStateException(EMPTY + " is not linked");
        }
        try (Arena call = Arena.ofConfined()) {
            MemorySegment sizes = call.allocateFrom(ValueLayout.JAVA_LONG, length);
            MemorySegment strides = call.allocateFrom(ValueLayout.JAVA_LONG, 1L);
            MemorySegment result = call.allocate(ValueLayout.JAVA_LONG);
            int error = (int) Shim.EMPTY_STRIDED.invokeExact(1L, sizes, strides, Shim.FLOAT32_CODE, Shim.CPU_CODE, 0,
                    result);
            TorchCShim.check(error, EMPTY, length + " floats");
            long handle = result.get(ValueLayout.JAVA_LONG, 0);
            // wrapped at once: the manager then frees the tensor even if the next call fails
            NDArray array = new PtNDArray((PtNDManager) manager, handle);
            MemorySegment pointer = call.allocate(ValueLayout.ADDRESS);
            error = (int) Shim.DATA_PTR.invokeExact(MemorySegment.ofAddress(handle), pointer);
            TorchCShim.check(error, DATA, length + " floats");
            MemorySegment data = pointer.get(ValueLayout.ADDRESS, 0).reinterpret(length * Float.BYTES);
            return new Writable(array, data);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(EMPTY + " call failed", t);
        }
    }

    /** Linked on first use, when a caller holds a manager and so the engine has loaded libtorch. */
    private static final class Shim {
        static final MethodHandle EMPTY_STRIDED = link(EMPTY, FunctionDescriptor.of(ValueLayout.JAVA_INT,
                ValueLayout.JAVA_LONG, ValueLayout.ADDRESS, ValueLayout.ADDRESS, // ndim, sizes, strides
                ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, // dtype, device type, index
                ValueLayout.ADDRESS)); // ret
        static final MethodHandle DATA_PTR = link(DATA, FunctionDescriptor.of(ValueLayout.JAVA_INT,
                ValueLayout.ADDRESS, ValueLayout.ADDRESS)); // tensor, ret
        /** The shim's codes for float32 and the CPU, asked of the shim itself; -1 where it lacks them. */
        static final int FLOAT32_CODE = code(FLOAT32);
        static final int CPU_CODE = code(CPU);
        static final boolean LINKED = EMPTY_STRIDED != null && DATA_PTR != null && FLOAT32_CODE >= 0 && CPU_CODE >= 0;

        static {
            if (!LINKED) {
                LOG.info("libtorch lacks one of {}, {}, {}, {}; arrays from Java go through DJL's copy", EMPTY, DATA,
                        FLOAT32, CPU);
            }
        }

        private static MethodHandle link(String symbol, FunctionDescriptor signature) {
            return TorchCShim.link(symbol, signature).orElse(null);
        }

        private static int code(String symbol) {
            MethodHandle getter = link(symbol, FunctionDescriptor.of(ValueLayout.JAVA_INT));
            if (getter == null) {
                return -1;
            }
            try {
                return (int) getter.invokeExact();
            } catch (Throwable t) {
                throw new IllegalStateException(symbol + " call failed", t);
            }
        }
    }
}
