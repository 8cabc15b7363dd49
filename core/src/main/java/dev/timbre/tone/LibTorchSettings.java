package dev.timbre.tone;

import com.sun.jna.Function;
import com.sun.jna.Library;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Pointer;
import java.nio.file.Path;
import java.util.Map;

/**
 * Two settings of libtorch itself that DJL has no API for, applied through JNA (which DJL already loads to probe
 * for CUDA) to the very libraries DJL loaded.
 *
 * <ul>
 *   <li><b>c10's log level.</b> libtorch writes its warnings with its own logger straight to file descriptor 2,
 *       in glog form ({@code [W1202 12:00:00.000 NNPACK.cpp:57] ...}), past logback and past the "every log
 *       line is JSON" contract. c10 reads {@code TORCH_CPP_LOG_LEVEL} only in {@code c10::initLogging()}, which
 *       Python's {@code import torch} calls and neither libtorch nor DJL's JNI ever does: under DJL the variable
 *       alone changes nothing (checked on 2.7.1: the level stays WARNING). So the level is first set to ERROR,
 *       Timbre's default, and then {@code initLogging()} runs, which applies {@code TORCH_CPP_LOG_LEVEL} when it
 *       is set (WARNING or INFO to see libtorch's warnings again while debugging).</li>
 *   <li><b>NNPACK off.</b> On CPUs NNPACK does not support (some AMD EPYC hosts, some VMs) libtorch 2.x logs
 *       "Could not initialize NNPACK! Reason: Unsupported hardware." on every convolution, because every conv
 *       asks whether NNPACK is available before checking whether it would use it. NNPACK would only ever be
 *       picked for batches of 16 and more; the reference encoder convolves one recording at a time, so turning
 *       it off ({@code at::globalContext().setUserEnabledNNPACK(false)}) costs nothing and means it is never
 *       initialised, on any CPU.</li>
 * </ul>
 *
 * <p>Only for a loaded engine: the libraries are looked up with {@code RTLD_NOLOAD}, so nothing is loaded twice.
 */
final class LibTorchSettings {

    /** c10's levels: 0 INFO, 1 WARNING, 2 ERROR, 3 FATAL. */
    static final int LOG_LEVEL_ERROR = 2;

    private static final String[] LEVEL_NAMES = {"INFO", "WARNING", "ERROR", "FATAL"};

    // glibc's dlopen flags: resolve lazily, and only find a library that is already loaded
    private static final int RTLD_LAZY = 0x1;
    private static final int RTLD_NOLOAD = 0x4;

    private final NativeLibrary c10;
    private final NativeLibrary torchCpu;

    private LibTorchSettings(NativeLibrary c10, NativeLibrary torchCpu) {
        this.c10 = c10;
        this.torchCpu = torchCpu;
    }

    /**
     * The libraries of the started engine, in {@code libtorchDir} (DJL's {@code LibUtils.getLibtorchPath()}).
     *
     * @throws UnsatisfiedLinkError when they are not loaded from there (or this is not Linux)
     */
    static LibTorchSettings of(Path libtorchDir) {
        Map<String, Object> alreadyLoaded = Map.of(Library.OPTION_OPEN_FLAGS, RTLD_LAZY | RTLD_NOLOAD);
        return new LibTorchSettings(
                NativeLibrary.getInstance(libtorchDir.resolve(System.mapLibraryName("c10")).toString(), alreadyLoaded),
                NativeLibrary.getInstance(libtorchDir.resolve(System.mapLibraryName("torch_cpu")).toString(),
                        alreadyLoaded));
    }

    /** ERROR, or what {@code TORCH_CPP_LOG_LEVEL} says (c10 parses it); returns the level now in force. */
    int quietLogging() {
        logLevelFlag().setInt(0, LOG_LEVEL_ERROR);
        c10.getFunction("_ZN3c1011initLoggingEv").invokeVoid(new Object[0]);
        return logLevel();
    }

    /** c10's minimum level of what it prints (0 INFO .. 3 FATAL). */
    int logLevel() {
        return logLevelFlag().getInt(0);
    }

    static String levelName(int level) {
        return level >= 0 && level < LEVEL_NAMES.length ? LEVEL_NAMES[level] : Integer.toString(level);
    }

    void disableNnpack() {
        torchCpu.getFunction("_ZN2at7Context20setUserEnabledNNPACKEb").invokeVoid(new Object[] {globalContext(), false});
    }

    boolean nnpackEnabled() {
        // a C++ bool comes back in the low byte of the register; the rest is not defined
        return (torchCpu.getFunction("_ZNK2at7Context17userEnabledNNPACKEv").invokeInt(new Object[] {globalContext()})
                & 0xff) != 0;
    }

    private Pointer logLevelFlag() {
        return c10.getGlobalVariableAddress("FLAGS_caffe2_log_level");
    }

    private Pointer globalContext() {
        Function globalContext = torchCpu.getFunction("_ZN2at13globalContextEv");
        return globalContext.invokePointer(new Object[0]);
    }
}
