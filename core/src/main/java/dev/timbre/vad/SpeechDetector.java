package dev.timbre.vad;

import java.util.List;

/**
 * Where a recording has speech, as OpenVoice's get-se path finds it: whisper-timestamped's {@code get_vad_segments}
 * on FFmpeg's 16 kHz mono signed 16-bit conversion (docs/architecture.md §10). The samples are divided by 32768,
 * then by max(0.1, max |x|); Silero VAD v6.2 runs through {@code get_speech_timestamps} with min speech 0.1 s and min
 * silence 1 s (threshold 0.5, speech pad 30 ms, 512-sample windows with the model's 64-sample context otherwise);
 * the segments, in seconds, are widened by 0.5 s on both sides (clipped to the recording) and overlapping ones merged.
 *
 * <p>Not thread-safe: one detector per worker thread, beside the converter cache.
 */
public interface SpeechDetector extends AutoCloseable {

    /**
     * @param pcm16k 16 kHz mono signed 16-bit samples ({@link dev.timbre.audio.FfmpegMono16k#convert})
     * @return {@code [start, end]} pairs in seconds, in order, not overlapping; empty when nothing is speech
     */
    List<double[]> speechSegments(short[] pcm16k);

    @Override
    void close();
}
