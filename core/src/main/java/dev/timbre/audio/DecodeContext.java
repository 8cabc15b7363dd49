package dev.timbre.audio;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;

/**
 * Limits, time budget and size of one decode. Decoders call {@link #checkDeadline()} between frames or pages, so
 * that a file built to make a codec library crawl fails instead of holding a worker; the budget is far above what
 * a real recording of {@link AudioLimits#maxSeconds()} needs. {@link #bytesPresent()} is what every allocation is
 * sized against: a length a header declares is only a hint, checked against what decodes (see
 * {@link #checkDeclaredLength}). Confined to the decoding thread.
 */
final class DecodeContext {
    /** Libraries peek past the end a few times legitimately; a loop does so without end. */
    private static final int MAX_READS_AFTER_END = 64;

    private final AudioLimits limits;
    private final long decodeTimeLimitNanos;
    private final long startNanos;
    private final int bytesPresent;
    private final boolean keepChannels;

    /** @param bytesPresent the length of the encoded file, which bounds what a decoder may allocate up front */
    DecodeContext(AudioLimits limits, long decodeTimeLimitNanos, int bytesPresent) {
        this(limits, decodeTimeLimitNanos, bytesPresent, false);
    }

    /** @param keepChannels whether decoders also keep the interleaved channels ({@link DecodedAudio#interleaved()}) */
    DecodeContext(AudioLimits limits, long decodeTimeLimitNanos, int bytesPresent, boolean keepChannels) {
        this.keepChannels = keepChannels;
        this.limits = limits;
        this.decodeTimeLimitNanos = decodeTimeLimitNanos;
        this.startNanos = System.nanoTime();
        this.bytesPresent = bytesPresent;
    }

    AudioLimits limits() {
        return limits;
    }

    boolean keepChannels() {
        return keepChannels;
    }

    /** A buffer for the interleaved channels when they are kept, else {@code null}. */
    MonoBuffer channelBuffer(int sampleRate, long declaredFrames, int channels) {
        return keepChannels ? new MonoBuffer(this, sampleRate, declaredFrames, channels) : null;
    }

    int bytesPresent() {
        return bytesPresent;
    }

    /** @throws InvalidAudioException when the decode has run past its time budget */
    void checkDeadline() {
        if (System.nanoTime() - startNanos > decodeTimeLimitNanos) {
            throw new InvalidAudioException("audio decoding took too long: more than "
                    + AudioText.seconds(decodeTimeLimitNanos / 1e9) + " s (damaged or hostile file)");
        }
    }

    /**
     * Wraps a codec library's input so that its reads fail once the time budget is spent, and so that a library
     * that keeps asking for bytes after the end (jFLAC retries a stale frame header forever at the end of a
     * stream whose announced length is too long) is stopped with {@link InputExhausted}.
     */
    InputStream guard(InputStream in) {
        return new FilterInputStream(in) {
            private int readsAfterEnd;

            @Override
            public int read() throws IOException {
                checkDeadline();
                return counted(super.read());
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                checkDeadline();
                return len == 0 ? 0 : counted(super.read(b, off, len));
            }

            @Override
            public long skip(long n) throws IOException {
                checkDeadline();
                return super.skip(n);
            }

            private int counted(int result) {
                if (result < 0 && ++readsAfterEnd > MAX_READS_AFTER_END) {
                    throw new InputExhausted();
                }
                return result;
            }
        };
    }

    /** A decoder asked for more bytes after the end too often: treat the stream as ended. */
    static final class InputExhausted extends RuntimeException {
        private static final long serialVersionUID = 1L;

        InputExhausted() {
            super("input exhausted", null, false, false);
        }
    }

    /** Rejects a recording whose frames are all present (counted from the bytes, not a header) and too long. */
    void checkLength(long frames, int sampleRate) {
        if (limits.isTooLong(frames, sampleRate)) {
            throw tooLong(AudioText.seconds(frames / (double) sampleRate));
        }
    }

    /**
     * A header that states a definite length (a WAV data size, FLAC's total samples, an MP3 Xing/Info frame
     * count) more than {@code toleranceFrames} beyond what the file holds is a truncated upload. The tolerance is
     * one frame of the format: a cut inside the last frame loses only that frame, which readers accept silently.
     *
     * @param declaredFrames frames the header declares; 0 or less means "unknown" (streaming) and passes
     * @param presentFrames  frames the file holds (decoded, or counted from the bytes)
     * @throws InvalidAudioException {@code audio is truncated: header declares X s, file holds Y s}
     */
    void checkDeclaredLength(long declaredFrames, long presentFrames, long toleranceFrames, int sampleRate) {
        if (declaredFrames > 0 && declaredFrames - presentFrames > toleranceFrames) {
            throw new InvalidAudioException("audio is truncated: header declares "
                    + AudioText.seconds(declaredFrames / (double) sampleRate) + " s, file holds "
                    + AudioText.seconds(presentFrames / (double) sampleRate) + " s");
        }
    }

    /** For a stream whose length is found by decoding it: the decode stopped at the limit. */
    InvalidAudioException tooLongWhileDecoding() {
        return tooLong("more than " + AudioText.seconds(limits.maxSeconds()));
    }

    private InvalidAudioException tooLong(String actual) {
        return new InvalidAudioException("audio too long: " + actual + " s exceeds the limit of "
                + AudioText.seconds(limits.maxSeconds()) + " s");
    }

    /** Validates a header's rate and channel count; {@code what} names the format, e.g. "invalid WAV". */
    static void checkRateAndChannels(String what, long sampleRate, long channels) {
        if (channels < 1) {
            throw new InvalidAudioException(what + ": " + channels + " channels");
        }
        if (channels > AudioLimits.MAX_CHANNELS) {
            throw new InvalidAudioException(what + ": " + channels + " channels exceeds the limit of "
                    + AudioLimits.MAX_CHANNELS);
        }
        if (sampleRate < 1 || sampleRate > AudioLimits.MAX_SAMPLE_RATE) {
            throw new InvalidAudioException(what + ": sample rate " + sampleRate + " Hz is outside 1.."
                    + AudioLimits.MAX_SAMPLE_RATE + " Hz");
        }
    }
}
