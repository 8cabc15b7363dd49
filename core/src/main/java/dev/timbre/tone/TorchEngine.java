package dev.timbre.tone;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.engine.StandardCapabilities;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.pytorch.jni.LibUtils;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The PyTorch engine of DJL, started once per process, offline, with one intra-op and one inter-op thread.
 *
 * <p>Why the properties are set here and not only by the launcher: DJL reads them once, when the engine first
 * starts, and a host that forgets them either calls home (telemetry connects to 169.254.169.254 without
 * {@code ai.djl.offline}) or runs every converter on all cores (oversubscription, OpenMP tail latency;
 * docs/architecture.md §7). A value the operator already set is respected. The inter-op thread count can be set only once per
 * process, before any parallel work, so this class never sets it itself: it only supplies the property that
 * DJL applies at engine start.
 *
 * <p>libtorch's own logger and NNPACK are quieted here too ({@link LibTorchSettings}): libtorch writes its
 * warnings to file descriptor 2 whatever logback says, and on CPUs NNPACK does not support it wrote one per
 * convolution.
 *
 * <p>Thread-safe. The engine lives until the JVM exits; nothing here needs closing.
 */
public final class TorchEngine {
    private static final Logger log = LoggerFactory.getLogger(TorchEngine.class);

    public static final String ENGINE_NAME = "PyTorch";
    static final String OFFLINE = "ai.djl.offline";
    static final String OPT_OUT_TRACKING = "OPT_OUT_TRACKING";
    static final String INTRA_OP_THREADS = "ai.djl.pytorch.num_threads";
    static final String INTER_OP_THREADS = "ai.djl.pytorch.num_interop_threads";
    static final String GRAPH_OPTIMIZER = "ai.djl.pytorch.graph_optimizer";

    private static volatile Engine engine;

    private TorchEngine() {
    }

    /** The started engine. The first call takes about a second (more if the natives must be extracted). */
    public static Engine get() {
        Engine started = engine;
        if (started != null) {
            return started;
        }
        synchronized (TorchEngine.class) {
            if (engine == null) {
                engine = start();
            }
            return engine;
        }
    }

    /** A new root manager on the engine; the caller closes it. */
    public static NDManager newManager() {
        return get().newBaseManager();
    }

    private static Engine start() {
        setIfUnset(OFFLINE, "true");
        setIfUnset(OPT_OUT_TRACKING, "true");
        setIfUnset(INTRA_OP_THREADS, "1");
        setIfUnset(INTER_OP_THREADS, "1");
        // Only TorchScript uses the graph executor, and Timbre runs none; off, DJL does not log a hint about it
        setIfUnset(GRAPH_OPTIMIZER, "false");
        long t0 = System.nanoTime();
        Engine started = Engine.getEngine(ENGINE_NAME);
        // If something started the engine before this class (so DJL never saw the properties), the intra-op
        // count can still be corrected now; the inter-op count cannot (libtorch allows setting it once, before
        // any parallel work), so a mismatch there is only reported.
        int intraOp = Integer.getInteger(INTRA_OP_THREADS, 1);
        if (JniUtils.getNumThreads() != intraOp) {
            JniUtils.setNumThreads(intraOp);
        }
        int interOp = Integer.getInteger(INTER_OP_THREADS, 1);
        if (JniUtils.getNumInteropThreads() != interOp) {
            log.warn("PyTorch has {} inter-op threads, not {}: the engine was started before TorchEngine",
                    JniUtils.getNumInteropThreads(), interOp);
        }
        String nativeLogLevel = quietNatives();
        Device device = started.defaultDevice();
        if (started.hasCapability(StandardCapabilities.CUDA) && !device.isGpu()) {
            // logback keeps DJL's own CUDA probe quiet (it warns on every CPU-only host that has libcudart), so
            // a GPU build without a usable GPU is reported here, where it matters
            log.warn("PyTorch is a CUDA build but no GPU is usable: running on the CPU");
        }
        log.info("PyTorch engine {} up in {} ms (offline={}, intra-op threads={}, inter-op threads={}, device={},"
                        + " native log level={})",
                started.getVersion(), (System.nanoTime() - t0) / 1_000_000, System.getProperty(OFFLINE),
                JniUtils.getNumThreads(), JniUtils.getNumInteropThreads(), device, nativeLogLevel);
        return started;
    }

    /** Applies {@link LibTorchSettings}; returns c10's log level, or why it could not be set. */
    private static String quietNatives() {
        try {
            LibTorchSettings natives = LibTorchSettings.of(Path.of(LibUtils.getLibtorchPath()));
            natives.disableNnpack();
            return LibTorchSettings.levelName(natives.quietLogging());
        } catch (UnsatisfiedLinkError e) {
            // Another libtorch build (other symbols) still computes the same embeddings; only its stderr is louder
            log.warn("libtorch's log level and NNPACK left as they are: {}", e.getMessage());
            return "unchanged";
        }
    }

    /** libtorch's settings of the started engine (tests). */
    static LibTorchSettings nativeSettings() {
        get();
        return LibTorchSettings.of(Path.of(LibUtils.getLibtorchPath()));
    }

    private static void setIfUnset(String key, String value) {
        if (System.getProperty(key) == null) {
            System.setProperty(key, value);
        }
    }
}
