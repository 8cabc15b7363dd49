package dev.timbre.vad;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Silero VAD v6.2 on ONNX Runtime: one speech probability per 512-sample window, run as silero-vad's
 * {@code OnnxWrapper} runs it from {@code get_speech_timestamps}. Each call starts from zero state and zero context;
 * every window is fed as {@code [1, 64 + 512]} (the previous window's last 64 samples, then the window), with the
 * {@code [2, 1, 128]} state the previous run returned and {@code sr} 16000 (int64); the last partial window is
 * zero-padded.
 *
 * <p>One ONNX session per instance, one intra-op and one inter-op thread, sequential (the detector is per worker
 * thread, like the converters). The input, state and rate tensors are made once over direct buffers and refilled
 * per window: ONNX Runtime reads a direct buffer in place, so a window costs one {@code run} and no tensor
 * allocation on the input side. Not thread-safe.
 */
public final class SileroVad implements AutoCloseable {

    /** The model on the class path, put there at build time (core/pom.xml, infra/model/fetch_silero.sh). */
    public static final String MODEL_RESOURCE = "dev/timbre/vad/silero_vad_v6.2.onnx";

    public static final int SAMPLE_RATE = 16_000;
    public static final int WINDOW = 512;
    static final int CONTEXT = 64;
    private static final int STATE_SIZE = 2 * 1 * 128;

    private final OrtSession session;
    private final FloatBuffer input;
    private final FloatBuffer state;
    private final OnnxTensor inputTensor;
    private final OnnxTensor stateTensor;
    private final OnnxTensor rateTensor;
    private final Map<String, OnnxTensor> feeds;

    private SileroVad(byte[] model) {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try {
            OrtSession.SessionOptions options = new OrtSession.SessionOptions();
            options.setIntraOpNumThreads(1);
            options.setInterOpNumThreads(1);
            options.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
            this.session = env.createSession(model, options);
        } catch (OrtException e) {
            throw new VadModelException("Silero VAD model is not a valid ONNX model: " + e.getMessage(), e);
        }
        try {
            input = direct(CONTEXT + WINDOW);
            state = direct(STATE_SIZE);
            inputTensor = OnnxTensor.createTensor(env, input, new long[] {1, CONTEXT + WINDOW});
            stateTensor = OnnxTensor.createTensor(env, state, new long[] {2, 1, 128});
            LongBuffer rate = ByteBuffer.allocateDirect(Long.BYTES).order(ByteOrder.nativeOrder()).asLongBuffer();
            rate.put(0, SAMPLE_RATE);
            rateTensor = OnnxTensor.createTensor(env, rate, new long[] {});
            feeds = Map.of("input", inputTensor, "state", stateTensor, "sr", rateTensor);
        } catch (OrtException e) {
            closeSession();
            throw new VadModelException("cannot make the Silero VAD input tensors: " + e.getMessage(), e);
        }
    }

    /** The model built into the class path. */
    public static SileroVad open() {
        try (InputStream in = SileroVad.class.getClassLoader().getResourceAsStream(MODEL_RESOURCE)) {
            if (in == null) {
                throw new VadModelException("Silero VAD model " + MODEL_RESOURCE + " is not on the class path "
                        + "(core's build puts it there: infra/model/fetch_silero.sh)", null);
            }
            return new SileroVad(in.readAllBytes());
        } catch (IOException e) {
            throw new VadModelException("cannot read " + MODEL_RESOURCE + ": " + e.getMessage(), e);
        }
    }

    /** A model file elsewhere (tests, a model swapped without a rebuild). */
    public static SileroVad open(Path model) {
        try {
            return new SileroVad(Files.readAllBytes(model));
        } catch (IOException e) {
            throw new VadModelException("cannot read the Silero VAD model " + model + ": " + e.getMessage(), e);
        }
    }

    /**
     * @param audio 16 kHz samples (already normalised as the caller wants them)
     * @return one probability per window of 512 samples, {@code ceil(length / 512)} of them
     */
    public float[] probabilities(float[] audio) {
        int windows = (audio.length + WINDOW - 1) / WINDOW;
        float[] probabilities = new float[windows];
        for (int i = 0; i < STATE_SIZE; i++) {
            state.put(i, 0f);
        }
        for (int i = 0; i < CONTEXT; i++) {
            input.put(i, 0f);
        }
        for (int w = 0; w < windows; w++) {
            int start = w * WINDOW;
            if (w > 0) {
                // the context: the last 64 samples of the previous model input
                for (int i = 0; i < CONTEXT; i++) {
                    input.put(i, input.get(WINDOW + i));
                }
            }
            int n = Math.min(WINDOW, audio.length - start);
            for (int i = 0; i < n; i++) {
                input.put(CONTEXT + i, audio[start + i]);
            }
            for (int i = n; i < WINDOW; i++) {
                input.put(CONTEXT + i, 0f);
            }
            probabilities[w] = run();
        }
        return probabilities;
    }

    private float run() {
        try (OrtSession.Result result = session.run(feeds)) {
            float probability = ((float[][]) result.get(0).getValue())[0][0];
            FloatBuffer next = ((OnnxTensor) result.get(1)).getFloatBuffer();
            for (int i = 0; i < STATE_SIZE; i++) {
                state.put(i, next.get(i));
            }
            return probability;
        } catch (OrtException e) {
            throw new IllegalStateException("Silero VAD run failed: " + e.getMessage(), e);
        }
    }

    private static FloatBuffer direct(int floats) {
        return ByteBuffer.allocateDirect(floats * Float.BYTES).order(ByteOrder.nativeOrder()).asFloatBuffer();
    }

    @Override
    public void close() {
        rateTensor.close();
        stateTensor.close();
        inputTensor.close();
        closeSession();
    }

    private void closeSession() {
        try {
            session.close();
        } catch (OrtException e) {
            throw new IllegalStateException("cannot close the Silero VAD session: " + e.getMessage(), e);
        }
    }
}
