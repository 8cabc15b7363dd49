package dev.timbre.tone;

import dev.timbre.audio.AudioLimits;
import dev.timbre.audio.AudioLoader;
import dev.timbre.audio.LoadedAudio;
import dev.timbre.audio.Resampler;
import dev.timbre.audio.ResamplingFilter;
import dev.timbre.tone.checkpoint.CheckpointException;
import dev.timbre.tone.checkpoint.ConverterCheckpoint;
import dev.timbre.vad.SileroSpeechDetector;
import dev.timbre.vad.SpeechDetector;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * OpenVoice {@code ToneColorConverter.extract_se} for one converter directory: the facade the pipeline, the
 * CLI and the workers call.
 *
 * <p>Concurrency (docs/architecture.md §7): the {@code ref_enc} weights are loaded once per process per converter
 * directory and shared read-only. Extractors loaded from the same directory share one copy (reference
 * counted; the last {@link #close()} frees it). Each thread that calls {@link #embed} or {@link #extract}
 * gets its own {@link ToneColorConverter}, created on first use and kept in a {@code ThreadLocal} while the
 * extractor lives, so a fixed worker pool creates exactly one converter per worker. Every method is
 * thread-safe. PyTorch runs with one intra-op and one inter-op thread ({@link TorchEngine}), so N workers
 * use N cores.
 *
 * <p>Lifecycle: the host creates one extractor per process and closes it at shutdown. {@code close} waits
 * for calls in flight, closes every converter it handed out and releases the weights; later calls throw
 * {@link IllegalStateException}.
 */
public final class ToneColorExtractor implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ToneColorExtractor.class);

    /** Weights per converter directory (real path), shared by every extractor of this process. */
    private static final Map<Path, SharedWeights> SHARED = new HashMap<>(); // guarded by SHARED

    private final ToneColorWeights weights;
    private final Runnable releaseWeights;
    private final AudioLimits limits;
    private final AudioLoader audioLoader; // thread-safe, shared by all threads
    private final ThreadLocal<ToneColorConverter> converters = ThreadLocal.withInitial(this::newConverter);
    private final Set<ToneColorConverter> created = ConcurrentHashMap.newKeySet();
    /** Opens a speech detector for get-se; null: this extractor does extract-se only. */
    private final Supplier<? extends SpeechDetector> detectorFactory;
    /** One detector per thread, like the converters, opened on the thread's first get-se. */
    private final ThreadLocal<SpeechDetector> detectors = ThreadLocal.withInitial(this::newDetector);
    private final Set<SpeechDetector> detectorsCreated = ConcurrentHashMap.newKeySet();
    private final OpenVoiceGetSe getSe;
    /** Read: a call in flight. Write: close. Closing under the write lock never frees memory a call is using. */
    private final ReentrantReadWriteLock lifecycle = new ReentrantReadWriteLock();
    private volatile boolean closed;

    private ToneColorExtractor(ToneColorWeights weights, Runnable releaseWeights, AudioLimits limits,
                               Supplier<? extends SpeechDetector> detectorFactory) {
        this.weights = weights;
        this.releaseWeights = releaseWeights;
        this.limits = Objects.requireNonNull(limits, "limits");
        this.audioLoader = new AudioLoader(limits);
        this.detectorFactory = detectorFactory;
        this.getSe = new OpenVoiceGetSe(audioLoader, new Resampler(ResamplingFilter.KAISER_BEST),
                weights.config().samplingRate(), samples -> converters.get().embed(samples));
    }

    /**
     * Loads (or shares, if this process already holds it) the converter at {@code converterDir}.
     *
     * @param converterDir an OpenVoice converter directory: {@code config.json} + {@code checkpoint.pth}
     * @param limits       limits applied to audio passed to {@link #extract}
     * @throws CheckpointException with one line naming the directory, file or key, if the directory is missing
     *                             or not a usable converter
     */
    public static ToneColorExtractor load(Path converterDir, AudioLimits limits) {
        // Silero's session opens on a thread's first get-se job only: extract-se-only workers never pay for it
        return load(converterDir, limits, SileroSpeechDetector::open);
    }

    /**
     * {@link #load(Path, AudioLimits)} on a daemon thread of its own ({@code timbre-model-loader}), started now: the
     * engine's native start and the weights (about 0.6 s of a 1.3 s cold start, docs/benchmarks.md, cold start) then
     * overlap the caller's other start-up work (connection pool, clients). {@link #await} takes the result.
     */
    public static CompletableFuture<ToneColorExtractor> loadInBackground(Path converterDir, AudioLimits limits) {
        CompletableFuture<ToneColorExtractor> loaded = new CompletableFuture<>();
        Thread loader = new Thread(() -> {
            try {
                loaded.complete(load(converterDir, limits));
            } catch (Throwable t) { // handed to the caller's await, which rethrows it on its own thread
                loaded.completeExceptionally(t);
            }
        }, "timbre-model-loader");
        loader.setDaemon(true); // a start-up that failed elsewhere must not wait for the weights to exit
        loader.start();
        return loaded;
    }

    /**
     * The extractor of a {@link #loadInBackground}, waiting for it; what the load threw is thrown here as it was
     * (a {@link CheckpointException} stays one).
     */
    public static ToneColorExtractor await(CompletableFuture<ToneColorExtractor> loading) {
        try {
            return loading.join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            if (e.getCause() instanceof Error error) {
                throw error;
            }
            throw e;
        }
    }

    /**
     * Like {@link #load(Path, AudioLimits)}, able to do get-se: each thread's first {@link SeMode#GET_SE} call opens
     * a {@link SpeechDetector} from {@code detectorFactory}; {@link #close()} closes them all.
     *
     * @param detectorFactory opens one detector; null for an extractor that does extract-se only
     */
    public static ToneColorExtractor load(Path converterDir, AudioLimits limits,
                                          Supplier<? extends SpeechDetector> detectorFactory) {
        Objects.requireNonNull(limits, "limits");
        Path key;
        try {
            key = converterDir.toRealPath();
        } catch (IOException e) {
            throw new CheckpointException("converter directory " + converterDir + ": not found or unreadable ("
                    + e.getClass().getSimpleName() + ")", e);
        }
        SharedWeights shared;
        synchronized (SHARED) {
            shared = SHARED.get(key);
            if (shared == null) {
                long t0 = System.nanoTime();
                ToneColorWeights loaded = ToneColorWeights.from(readCheckpoint(key));
                shared = new SharedWeights(key, loaded);
                SHARED.put(key, shared);
                log.info("Loaded converter {} ({}) in {} ms", key, loaded.modelId(),
                        (System.nanoTime() - t0) / 1_000_000);
            }
            shared.references++;
        }
        return new ToneColorExtractor(shared.weights, shared::release, limits, detectorFactory);
    }

    /**
     * An extractor on an already read checkpoint, with weights of its own (not shared with {@link #load}).
     * For tests and tools that build checkpoints in memory.
     */
    public static ToneColorExtractor fromCheckpoint(ConverterCheckpoint checkpoint, AudioLimits limits) {
        return fromCheckpoint(checkpoint, limits, null);
    }

    /** {@link #fromCheckpoint(ConverterCheckpoint, AudioLimits)} able to do get-se (see {@link #load(Path,
     * AudioLimits, Supplier)}). */
    public static ToneColorExtractor fromCheckpoint(ConverterCheckpoint checkpoint, AudioLimits limits,
                                                    Supplier<? extends SpeechDetector> detectorFactory) {
        ToneColorWeights owned = ToneColorWeights.from(checkpoint);
        return new ToneColorExtractor(owned, owned::close, limits, detectorFactory);
    }

    private static ConverterCheckpoint readCheckpoint(Path dir) {
        return ConverterCheckpoint.load(dir);
    }

    /**
     * Decodes, checks and resamples one encoded file, then embeds it.
     *
     * @throws dev.timbre.audio.InvalidAudioException if the audio is undecodable, unsupported or out of limits
     */
    public Extraction extract(byte[] encodedAudio) {
        ensureOpen(); // fail before decoding, not after
        LoadedAudio audio = audioLoader.load(encodedAudio, sampleRate());
        if (audio.sampleRate() != sampleRate()) {
            throw new IllegalStateException("audio loader returned " + audio.sampleRate() + " Hz for " + sampleRate());
        }
        return new Extraction(embed(audio.samples()), audio.durationSeconds(), audio.sampleRateIn());
    }

    /**
     * Decodes, checks and embeds one encoded file the way {@code mode} says: {@link SeMode#EXTRACT_SE} is
     * {@link #extract(byte[])}; {@link SeMode#GET_SE} is OpenVoice's {@code get_se} with voice activity detection.
     *
     * @throws dev.timbre.audio.InvalidAudioException if the audio is unusable; {@link TooLittleSpeechException} when
     *                                                get-se keeps too little speech
     */
    public Extraction extract(byte[] encodedAudio, SeMode mode) {
        return switch (mode) {
            case EXTRACT_SE -> extract(encodedAudio);
            case GET_SE -> extractGetSe(encodedAudio);
        };
    }

    private Extraction extractGetSe(byte[] encodedAudio) {
        if (detectorFactory == null) {
            throw new IllegalStateException("this extractor was made without a speech detector: get-se needs one");
        }
        lifecycle.readLock().lock();
        try {
            ensureOpen();
            return getSe.extract(encodedAudio, detectors.get());
        } finally {
            lifecycle.readLock().unlock();
        }
    }

    private SpeechDetector newDetector() {
        SpeechDetector detector = Objects.requireNonNull(detectorFactory.get(), "speech detector factory gave null");
        detectorsCreated.add(detector);
        log.debug("Opened speech detector for thread {}", Thread.currentThread().getName());
        return detector;
    }

    /**
     * The embedding of mono samples already at {@link #sampleRate()}.
     *
     * @param samplesAtModelRate at least 385 finite samples
     * @return {@link #dimension()} floats; a new array the caller owns
     * @throws IllegalArgumentException if the samples are too few or not finite
     */
    public float[] embed(float[] samplesAtModelRate) {
        lifecycle.readLock().lock();
        try {
            ensureOpen();
            return converters.get().embed(samplesAtModelRate);
        } finally {
            lifecycle.readLock().unlock();
        }
    }

    /**
     * The arithmetic mean of several embeddings, as {@code extract_se} combines files
     * ({@code torch.stack(gs).mean(0)}): no length weighting, no normalisation. Summed in double.
     *
     * @throws IllegalArgumentException if the list is empty or the lengths differ
     */
    public static float[] mean(List<float[]> embeddings) {
        if (embeddings.isEmpty()) {
            throw new IllegalArgumentException("mean of no embeddings");
        }
        int dim = embeddings.get(0).length;
        double[] sum = new double[dim];
        for (float[] e : embeddings) {
            if (e.length != dim) {
                throw new IllegalArgumentException("embeddings of different sizes: " + dim + " and " + e.length);
            }
            for (int i = 0; i < dim; i++) {
                sum[i] += e[i];
            }
        }
        float[] mean = new float[dim];
        for (int i = 0; i < dim; i++) {
            mean[i] = (float) (sum[i] / embeddings.size());
        }
        return mean;
    }

    /** Identifier of the weights, e.g. {@code openvoice-v2:9652c27e}, for results and payloads. */
    public String modelId() {
        return weights.modelId();
    }

    /** Embedding size ({@code gin_channels}, 256). */
    public int dimension() {
        return weights.dimension();
    }

    /** The rate {@link #embed} expects: the checkpoint's {@code data.sampling_rate} (22050). */
    public int sampleRate() {
        return weights.config().samplingRate();
    }

    /** Limits applied by {@link #extract}. */
    public AudioLimits limits() {
        return limits;
    }

    /**
     * This thread's converter, created on the first call from this thread and the same object on every later
     * call. Confined to this thread; owned and closed by this extractor.
     */
    public ToneColorConverter converterForCurrentThread() {
        ensureOpen();
        return converters.get();
    }

    /** How many times converter weights were loaded in this process (1 per converter directory in use). */
    public static int weightLoads() {
        return ToneColorWeights.loads();
    }

    /** The weights this extractor runs on (shared with other extractors of the same directory). */
    ToneColorWeights weights() {
        return weights;
    }

    /** The get-se chain, for tests that feed it segments of their own. */
    OpenVoiceGetSe getSeChain() {
        return getSe;
    }

    /** Converters created so far, one per thread that has used this extractor. */
    int convertersCreated() {
        return created.size();
    }

    private ToneColorConverter newConverter() {
        ToneColorConverter converter = new ToneColorConverter(weights);
        created.add(converter);
        log.debug("Created converter for thread {}", Thread.currentThread().getName());
        return converter;
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("tone-color extractor is closed");
        }
    }

    /** Waits for calls in flight, closes every converter and releases the weights. Idempotent. */
    @Override
    public void close() {
        lifecycle.writeLock().lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            created.forEach(ToneColorConverter::close);
            created.clear();
            detectorsCreated.forEach(SpeechDetector::close);
            detectorsCreated.clear();
            releaseWeights.run();
        } finally {
            lifecycle.writeLock().unlock();
        }
    }

    private static final class SharedWeights {
        private final Path key;
        private final ToneColorWeights weights;
        private int references; // guarded by SHARED

        SharedWeights(Path key, ToneColorWeights weights) {
            this.key = key;
            this.weights = weights;
        }

        void release() {
            synchronized (SHARED) {
                if (--references == 0) {
                    SHARED.remove(key);
                    weights.close();
                }
            }
        }
    }
}
