package dev.timbre.tone;

import dev.timbre.audio.AudioLoader;
import dev.timbre.audio.FfmpegMono16k;
import dev.timbre.audio.OriginalAudio;
import dev.timbre.audio.Resampler;
import dev.timbre.vad.SpeechDetector;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;

/**
 * OpenVoice's {@code se_extractor.get_se(path, converter, vad=True)} (docs/architecture.md §10):
 * <ol>
 *   <li>speech segments from the VAD on FFmpeg's 16 kHz mono conversion ({@code split_audio_vad});</li>
 *   <li>{@code audio[int(start * 1000):int(end * 1000)]} of the original recording for each, joined;</li>
 *   <li>cut into {@code round(kept / 10 s)} parts at {@code int(t * 1000)} ms; none: too little speech;</li>
 *   <li>each part as {@code librosa.load(part.wav, sr=22050)} reads it, {@code extract_se}, the mean.</li>
 * </ol>
 * Thread-safe when the embedder is; the detector is the caller's (one per thread).
 */
public final class OpenVoiceGetSe {
    /** {@code split_audio_vad}'s {@code split_seconds}. */
    static final double SPLIT_SECONDS = 10.0;

    private final AudioLoader audioLoader;
    private final Resampler resampler;
    private final int modelRate;
    private final Function<float[], float[]> embedder;

    /**
     * @param embedder mono samples at {@code modelRate} to one embedding ({@code extract_se} of one file)
     */
    public OpenVoiceGetSe(AudioLoader audioLoader, Resampler resampler, int modelRate,
                          Function<float[], float[]> embedder) {
        this.audioLoader = Objects.requireNonNull(audioLoader, "audioLoader");
        this.resampler = Objects.requireNonNull(resampler, "resampler");
        this.modelRate = modelRate;
        this.embedder = Objects.requireNonNull(embedder, "embedder");
    }

    /**
     * @throws TooLittleSpeechException when less than 5 s of speech is kept (no part)
     * @throws dev.timbre.audio.InvalidAudioException when the audio is unusable
     */
    public Extraction extract(byte[] encodedAudio, SpeechDetector detector) {
        OriginalAudio original = audioLoader.loadOriginal(encodedAudio);
        return extract(original, detector.speechSegments(FfmpegMono16k.convert(original)));
    }

    /**
     * Steps 2 to 4, on the segments the VAD found.
     *
     * @param segmentsSeconds {@code [start, end]} pairs in seconds ({@link SpeechDetector#speechSegments})
     * @throws TooLittleSpeechException when less than 5 s of speech is kept (no part)
     */
    public Extraction extract(OriginalAudio original, List<double[]> segmentsSeconds) {
        Split split = split(PydubAudio.of(original), segmentsSeconds);
        List<float[]> embeddings = new ArrayList<>(split.parts().size());
        for (PydubAudio part : split.parts()) {
            // librosa.load(part, sr=22050): mean of the channels, then resampy kaiser_best
            embeddings.add(embedder.apply(resampler.resample(part.mono(), part.sampleRate(), modelRate)));
        }
        List<Double> splitSeconds = split.parts().stream().map(PydubAudio::durationSeconds).toList();
        return new Extraction(ToneColorExtractor.mean(embeddings), original.durationSeconds(),
                original.sampleRate(), SeMode.GET_SE,
                Optional.of(new SpeechSummary(segmentsSeconds, split.keptSeconds(), splitSeconds)));
    }

    /** The parts {@code split_audio_vad} writes, before they are read back. */
    record Split(double keptSeconds, List<PydubAudio> parts) {
    }

    /**
     * Steps 2 and 3: the speech joined and cut into parts, exactly as {@code split_audio_vad} does with pydub.
     *
     * @throws TooLittleSpeechException when {@code round(kept / 10)} is 0
     */
    static Split split(PydubAudio audio, List<double[]> segmentsSeconds) {
        List<PydubAudio> kept = new ArrayList<>(segmentsSeconds.size());
        for (double[] segment : segmentsSeconds) {
            // audio[int(start_time * 1000) : int(end_time * 1000)]
            kept.add(audio.slice((long) (segment[0] * 1000), (long) (segment[1] * 1000)));
        }
        PydubAudio active = PydubAudio.join(audio.sampleRate(), audio.channels(), kept);
        double duration = active.durationSeconds();
        int numSplits = (int) Math.rint(duration / SPLIT_SECONDS); // int(np.round(...)): half to even
        if (numSplits <= 0) {
            throw new TooLittleSpeechException(duration);
        }
        double interval = duration / numSplits;
        List<PydubAudio> parts = new ArrayList<>(numSplits);
        double start = 0.0;
        for (int i = 0; i < numSplits; i++) {
            double end = Math.min(start + interval, duration);
            if (i == numSplits - 1) {
                end = duration;
            }
            parts.add(active.slice((long) (start * 1000), (long) (end * 1000)));
            start = end;
        }
        return new Split(duration, parts);
    }
}
