package dev.timbre.tone;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Functions of libtorch's AOTInductor C shim ({@code aoti_torch_*}), the C ABI libtorch exports for compiled
 * models: plain C types, C++ exceptions turned into an error code (0 = success), and a tensor handle
 * ({@code AtenTensorHandle}) that is a pointer to an {@code at::Tensor}, which is what a DJL PyTorch array's handle
 * is. They reach what DJL's API lacks (a fused conv + ReLU, an array Java fills in place) without a native build.
 *
 * <p>Linked through the FFM API ({@code --enable-native-access}, as every launcher sets) in the libtorch DJL
 * loaded: looked up by soname, the dynamic loader returns the copy already in the process. Call only once the
 * engine is up (a caller holding arrays). Where a symbol is missing (another libtorch build) the caller falls back
 * to DJL's ops.
 */
final class TorchCShim {
    private static final Logger LOG = LoggerFactory.getLogger(TorchCShim.class);
    private static final Optional<SymbolLookup> LIBTORCH = open();

    private TorchCShim() {
    }

    /** The downcall for {@code symbol}, or empty where the loaded libtorch does not export it. */
    @SuppressWarnings("restricted") // native access: every launcher passes --enable-native-access=ALL-UNNAMED
    static Optional<MethodHandle> link(String symbol, FunctionDescriptor signature) {
        Optional<MemorySegment> address = LIBTORCH.flatMap(l -> l.find(symbol));
        return address.map(a -> Linker.nativeLinker().downcallHandle(a, signature));
    }

    /** Throws with libtorch's error code and {@code what} when a shim call did not return 0. */
    static void check(int error, String symbol, String what) {
        if (error != 0) {
            throw new IllegalStateException(symbol + " failed (libtorch error " + error + ") on " + what);
        }
    }

    @SuppressWarnings("restricted")
    private static Optional<SymbolLookup> open() {
        try {
            return Optional.of(SymbolLookup.libraryLookup("libtorch_cpu.so", Arena.global()));
        } catch (IllegalArgumentException | IllegalCallerException | UnsupportedOperationException e) {
            LOG.info("libtorch's C shim is not reachable ({}); DJL's ops run instead", e.toString());
            return Optional.empty();
        }
    }
}
