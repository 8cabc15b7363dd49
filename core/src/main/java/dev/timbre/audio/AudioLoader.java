package dev.timbre.audio;

import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns an uploaded file into what {@code librosa.load(path, sr=target)} (librosa 0.9.1, as OpenVoice's
 * {@code extract_se} calls it) returns: mono float32 at the target rate.
 *
 * <p>Steps, each failing with a one-line {@link InvalidAudioException}: the byte limit; the format from the
 * magic bytes (WAV, FLAC, MP3, Ogg Vorbis); decoding, with decoders whose allocations grow with the bytes
 * present, never with a length a header declares, and a declared length more than one frame beyond what the file
 * holds reported as a truncated upload; channels averaged in float32; no empty or non-finite audio; the seconds limit;
 * resampling ({@link Resampler}, resampy's {@code kaiser_best}); at least {@link AudioLimits#MIN_SAMPLES}
 * samples after resampling.
 *
 * <p>Thread-safe and meant to be shared: it holds only the limits and the resampler's read-only table. Peak
 * memory of one call is about the input bytes plus {@code 4 × frames} for the decoded mono signal plus
 * {@code 4 × frames × target/rate} for the resampled one.
 */
public final class AudioLoader {
    private static final Logger LOG = LoggerFactory.getLogger(AudioLoader.class);
    /** Far above what a real file needs (a 10-minute MP3 decodes in a few seconds), and bounded. */
    public static final Duration DEFAULT_DECODE_TIME_LIMIT = Duration.ofSeconds(60);

    private final AudioLimits limits;
    private final Resampler resampler;
    private final long decodeTimeLimitNanos;

    /** Limits as given, resampy's current {@code kaiser_best}, the default decode time limit. */
    public AudioLoader(AudioLimits limits) {
        this(limits, new Resampler(ResamplingFilter.KAISER_BEST), DEFAULT_DECODE_TIME_LIMIT);
    }

    /**
     * @param limits            byte and seconds limits
     * @param resampler         shared resampler (its filter decides which resampy release is matched)
     * @param decodeTimeLimit   a decode still running after this fails (a guard against files built to make a
     *                          codec library crawl)
     */
    public AudioLoader(AudioLimits limits, Resampler resampler, Duration decodeTimeLimit) {
        if (limits == null || resampler == null || decodeTimeLimit == null) {
            throw new IllegalArgumentException("limits, resampler and decodeTimeLimit are required");
        }
        if (decodeTimeLimit.isNegative() || decodeTimeLimit.isZero()) {
            throw new IllegalArgumentException("decodeTimeLimit must be positive, was " + decodeTimeLimit);
        }
        this.limits = limits;
        this.resampler = resampler;
        this.decodeTimeLimitNanos = decodeTimeLimit.toNanos();
    }

    public AudioLimits limits() {
        return limits;
    }

    /**
     * Decodes one encoded file without mixing or resampling, with the same checks and limits as
     * {@link #load(byte[], int)}: the input of OpenVoice's get-se path.
     *
     * @throws InvalidAudioException if the audio is undecodable, unsupported or out of limits
     */
    public OriginalAudio loadOriginal(byte[] encoded) {
        checkBytes(encoded);
        DecodedAudio decoded = decode(encoded, true);
        if (decoded.channels() > 2) {
            // libswresample's default matrix for more channels (centre, LFE, surround levels) is not reproduced
            throw new InvalidAudioException("unsupported audio: get-se supports mono and stereo; this file has "
                    + decoded.channels() + " channels");
        }
        checkSamples(decoded.interleaved(), decoded.mono().length, decoded.sampleRate());
        return new OriginalAudio(decoded.interleaved(), decoded.sampleRate(), decoded.channels(),
                decoded.decodedAs());
    }

    private void checkBytes(byte[] encoded) {
        if (encoded == null || encoded.length == 0) {
            throw new InvalidAudioException("audio is empty: 0 bytes");
        }
        if (encoded.length > limits.maxBytes()) {
            throw new InvalidAudioException("audio too large: " + encoded.length + " bytes exceeds the limit of "
                    + limits.maxBytes() + " bytes");
        }
    }

    /** Not empty, finite, within the seconds limit: the checks {@link #load} makes on the mono signal. */
    private void checkSamples(float[] samples, int frames, int rate) {
        if (frames == 0) {
            throw new InvalidAudioException("audio is empty: 0 samples");
        }
        for (int i = 0; i < samples.length; i++) {
            if (!Float.isFinite(samples[i])) {
                throw new InvalidAudioException("audio contains non-finite samples (NaN or Inf) at sample " + i);
            }
        }
        if (limits.isTooLong(frames, rate)) {
            throw new InvalidAudioException("audio too long: " + AudioText.seconds(frames / (double) rate)
                    + " s exceeds the limit of " + AudioText.seconds(limits.maxSeconds()) + " s");
        }
    }

    /**
     * Decodes, mixes to mono, validates and resamples.
     *
     * @param encoded    the file's bytes (not modified, not retained)
     * @param targetRate the checkpoint's sampling rate
     * @return mono samples at {@code targetRate}, with the file's rate and duration
     * @throws InvalidAudioException    when the audio cannot be used; the message is one line naming what was
     *                                  wrong (and the limit and actual value where one applies)
     * @throws IllegalArgumentException when {@code targetRate} is outside 1..{@value AudioLimits#MAX_SAMPLE_RATE}
     */
    public LoadedAudio load(byte[] encoded, int targetRate) {
        if (targetRate < 1 || targetRate > AudioLimits.MAX_SAMPLE_RATE) {
            throw new IllegalArgumentException("targetRate must be in 1.." + AudioLimits.MAX_SAMPLE_RATE
                    + " Hz, was " + targetRate);
        }
        checkBytes(encoded);
        long start = System.nanoTime();
        DecodedAudio decoded = decode(encoded);
        long decodedAt = System.nanoTime();
        float[] mono = decoded.mono();
        int rateIn = decoded.sampleRate();
        checkSamples(mono, mono.length, rateIn);
        double durationSeconds = mono.length / (double) rateIn;
        float[] resampled = resampler.resample(mono, rateIn, targetRate);
        if (resampled.length < AudioLimits.MIN_SAMPLES) {
            throw new InvalidAudioException("audio too short: " + resampled.length + " samples at " + targetRate
                    + " Hz after resampling, need at least " + AudioLimits.MIN_SAMPLES);
        }
        if (LOG.isDebugEnabled()) {
            LOG.debug("audio loaded: bytes={} rate_in={} channels={} frames={} duration_s={} decode_ms={} "
                    + "resample_ms={}", encoded.length, rateIn, decoded.channels(), mono.length,
                    AudioText.seconds(durationSeconds), (decodedAt - start) / 1_000_000,
                    (System.nanoTime() - decodedAt) / 1_000_000);
        }
        return new LoadedAudio(resampled, targetRate, rateIn, durationSeconds);
    }

    /** Format detection and decoding only (the limits that a header lets be checked early included). */
    DecodedAudio decode(byte[] encoded) {
        return decode(encoded, false);
    }

    private DecodedAudio decode(byte[] encoded, boolean keepChannels) {
        DecodeContext context = new DecodeContext(limits, decodeTimeLimitNanos, encoded.length, keepChannels);
        AudioFormat.Detected detected = AudioFormat.detect(encoded);
        return switch (detected.format()) {
            case WAV -> new WavDecoder().decode(encoded, context);
            case FLAC -> new FlacDecoder().decode(encoded, detected.offset(), context);
            case MP3 -> new Mp3Decoder().decode(encoded, detected.offset(), context);
            case OGG_VORBIS -> new OggVorbisDecoder().decode(encoded, context);
        };
    }
}
