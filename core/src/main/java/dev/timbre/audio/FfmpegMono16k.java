package dev.timbre.audio;

/**
 * What {@code ffmpeg -i FILE -ac 1 -ar 16000 -f s16le -} writes (openai-whisper's {@code load_audio}, which
 * OpenVoice's VAD path reads): libswresample's default down-mix and resampling to 16 kHz mono signed 16-bit.
 */
public final class FfmpegMono16k {
    private FfmpegMono16k() {
    }

    /** @return 16 kHz mono signed 16-bit samples, exactly as FFmpeg's command line writes them */
    public static short[] convert(OriginalAudio audio) {
        throw new UnsupportedOperationException("not built yet");
    }
}
