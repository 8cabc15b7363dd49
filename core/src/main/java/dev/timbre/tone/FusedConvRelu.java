package dev.timbre.tone;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.pytorch.engine.PtNDArray;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Conv 2-D with its ReLU fused into the convolution (a oneDNN post-op), through libtorch's AOTInductor C shim:
 * {@code aoti_torch_cpu_mkldnn__convolution_pointwise(X, W, B, padding, stride, dilation, groups, "relu", ...)}.
 * ({@link TorchCShim}). It runs the oneDNN convolution {@code conv2d} runs (with the post-op oneDNN may pick
 * another kernel for a layer: results a few ulp apart) but writes each output once: DJL's {@code relu} is a second,
 * out-of-place pass over a fresh array, and at 3 s that pass and its page faults were about 7 % of an extraction.
 *
 * <p>Where the loaded libtorch lacks the symbol, or the tensors are not on the CPU, {@link #available} is false and
 * the caller runs DJL's conv and ReLU instead. Thread-safe: each call has its own confined arena for its
 * out-parameters.
 */
final class FusedConvRelu {
    private static final Logger LOG = LoggerFactory.getLogger(FusedConvRelu.class);
    private static final String SYMBOL = "aoti_torch_cpu_mkldnn__convolution_pointwise";
    private static final MemorySegment RELU = Arena.global().allocateFrom("relu");

    private final MemorySegment padding;
    private final MemorySegment stride;
    private final MemorySegment dilation;

    FusedConvRelu(long[] stride, long[] padding, long[] dilation) {
        if (stride.length != 2 || padding.length != 2 || dilation.length != 2) {
            throw new IllegalArgumentException("conv 2-D takes two strides, paddings and dilations");
        }
        this.stride = Arena.global().allocateFrom(ValueLayout.JAVA_LONG, stride);
        this.padding = Arena.global().allocateFrom(ValueLayout.JAVA_LONG, padding);
        this.dilation = Arena.global().allocateFrom(ValueLayout.JAVA_LONG, dilation);
    }

    /** Whether the fused path can take these arrays: the shim is linked and every one is a CPU PyTorch array. */
    static boolean available(NDArray... arrays) {
        if (Shim.CONV_POINTWISE.isEmpty()) {
            return false;
        }
        for (NDArray a : arrays) {
            if (!(a instanceof PtNDArray) || !Device.Type.CPU.equals(a.getDevice().getDeviceType())) {
                return false;
            }
        }
        return true;
    }

    /**
     * {@code relu(conv2d(input, weight, bias))}, groups 1.
     *
     * @return a new array in {@code input}'s manager
     * @throws IllegalStateException if libtorch reports an error (it prints its message to stderr)
     */
    NDArray apply(NDArray input, NDArray weight, NDArray bias) {
        MethodHandle conv = Shim.CONV_POINTWISE.orElseThrow(() -> new IllegalStateException(SYMBOL + " is not linked"));
        PtNDArray x = (PtNDArray) input;
        try (Arena call = Arena.ofConfined()) {
            MemorySegment biasSlot = call.allocateFrom(ValueLayout.JAVA_LONG, ((PtNDArray) bias).getHandle());
            MemorySegment result = call.allocate(ValueLayout.JAVA_LONG);
            int error = (int) conv.invokeExact(MemorySegment.ofAddress(x.getHandle()),
                    MemorySegment.ofAddress(((PtNDArray) weight).getHandle()), biasSlot, padding, 2L, stride, 2L,
                    dilation, 2L, 1L, RELU, MemorySegment.NULL, 0L, MemorySegment.NULL, result);
            TorchCShim.check(error, SYMBOL, "input " + input.getShape() + " and weight " + weight.getShape());
            return new PtNDArray(x.getManager(), result.get(ValueLayout.JAVA_LONG, 0));
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(SYMBOL + " call failed", t);
        }
    }

    /** Linked on first use, when a caller holds arrays and so the engine has loaded libtorch. */
    private static final class Shim {
        static final Optional<MethodHandle> CONV_POINTWISE = link();
    }

    private static Optional<MethodHandle> link() {
        FunctionDescriptor signature = FunctionDescriptor.of(ValueLayout.JAVA_INT,
                ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.ADDRESS, // X, W, B (AtenTensorHandle*)
                ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, // padding
                ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, // stride
                ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, // dilation
                ValueLayout.JAVA_LONG, // groups
                ValueLayout.ADDRESS, // attr
                ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, // scalars
                ValueLayout.ADDRESS, // algorithm (optional)
                ValueLayout.ADDRESS); // ret0
        Optional<MethodHandle> handle = TorchCShim.link(SYMBOL, signature);
        LOG.info(handle.isPresent() ? "convolutions run with their ReLU fused, through libtorch's {}"
                : "libtorch has no {}; convolutions and ReLU run as separate ops", SYMBOL);
        return handle;
    }
}
