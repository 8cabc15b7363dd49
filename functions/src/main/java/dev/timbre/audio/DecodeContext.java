package dev.timbre.audio;

/**
 * Limits and the time budget of one decode. Decoders call {@link #checkDeadline()} between frames or pages, so
 * that a file built to make a codec library crawl fails instead of holding a worker; the budget is far above what
 * a real recording of {@link AudioLimits#maxSeconds()} needs. Confined to the decoding thread.
 */
final class DecodeContext {
    private final AudioLimits limits;
    private final long decodeTimeLimitNanos;
    private final long startNanos;

    DecodeContext(AudioLimits limits, long decodeTimeLimitNanos) {
        this.limits = limits;
        this.decodeTimeLimitNanos = decodeTimeLimitNanos;
        this.startNanos = System.nanoTime();
    }

    AudioLimits limits() {
        return limits;
    }

    /** @throws InvalidAudioException when the decode has run past its time budget */
    void checkDeadline() {
        if (System.nanoTime() - startNanos > decodeTimeLimitNanos) {
            throw new InvalidAudioException("audio decoding took too long: more than "
                    + AudioText.seconds(decodeTimeLimitNanos / 1e9) + " s (damaged or hostile file)");
        }
    }

    /** Rejects a length announced by a header before anything is decoded. */
    void checkAnnouncedLength(long frames, int sampleRate) {
        if (limits.isTooLong(frames, sampleRate)) {
            throw tooLong(AudioText.seconds(frames / (double) sampleRate));
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
