package dev.timbre.tone;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * {@code torch.view_as_real}: a complex array's real and imaginary parts as a float array {@code [..., 2]} over the
 * same memory, through libtorch's C shim ({@link TorchCShim}).
 *
 * <p>Why: DJL's {@code real()} calls {@code view_as_real_copy}, which copies the whole STFT into the very layout
 * the view already has (0.1-0.15 ms of a 10 s clip's spectrogram, 1 % of its extraction). Where the loaded
 * libtorch exports neither symbol, or the array is not a PyTorch CPU one, DJL's copy runs: the values are the same
 * either way.
 *
 * <p>Thread-safe.
 */
final class RealView {
    /** The generated CPU op, and the older hand-written one that newer libtorch builds mark deprecated. */
    private static final String[] SYMBOLS = {"aoti_torch_cpu_view_as_real", "aoti_torch_view_as_real"};

    private RealView() {
    }

    /**
     * The real view of {@code complex}, in its manager; {@code complex} itself stays open (the view shares its
     * memory, and libtorch keeps that alive for as long as either is open).
     */
    static NDArray of(NDArray complex) {
        // the generated op is the CPU one: a GPU array (the ECS GPU image) takes DJL's copy
        if (Shim.VIEW_AS_REAL == null || !(complex instanceof PtNDArray array)
                || !Device.Type.CPU.equals(complex.getDevice().getDeviceType())) {
            return complex.real();
        }
        try (Arena call = Arena.ofConfined()) {
            MemorySegment result = call.allocate(ValueLayout.JAVA_LONG);
            int error = (int) Shim.VIEW_AS_REAL.invokeExact(MemorySegment.ofAddress(array.getHandle()), result);
            TorchCShim.check(error, "view_as_real", complex.getShape() + " " + complex.getDataType());
            return new PtNDArray((PtNDManager) complex.getManager(), result.get(ValueLayout.JAVA_LONG, 0));
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("view_as_real call failed", t);
        }
    }

    /** Linked on first use, when a caller holds an array and so the engine has loaded libtorch. */
    private static final class Shim {
        static final MethodHandle VIEW_AS_REAL = Stream.of(SYMBOLS)
                .map(symbol -> TorchCShim.link(symbol, FunctionDescriptor.of(ValueLayout.JAVA_INT,
                        ValueLayout.ADDRESS, ValueLayout.ADDRESS))) // self, ret
                .flatMap(Optional::stream)
                .findFirst()
                .orElse(null);
    }
}
