package dev.timbre.tone.checkpoint;

/**
 * The parts of an OpenVoice converter {@code config.json} that {@code extract_se} depends on.
 *
 * @param samplingRate  {@code data.sampling_rate}, 22050 for v1 and v2
 * @param filterLength  {@code data.filter_length} (n_fft), 1024
 * @param hopLength     {@code data.hop_length}, 256
 * @param winLength     {@code data.win_length}, 1024
 * @param ginChannels   {@code model.gin_channels}, the embedding size, 256
 * @param version       {@code _version_}, "v1" when absent
 */
public record ConverterConfig(int samplingRate, int filterLength, int hopLength, int winLength, int ginChannels,
                              String version) {

    /** Spectrogram bins: filter_length / 2 + 1 (513). */
    public int specChannels() {
        return filterLength / 2 + 1;
    }
}
