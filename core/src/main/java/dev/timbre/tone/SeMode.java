package dev.timbre.tone;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * How an embedding is made from one recording (docs/architecture.md §10). Embeddings of different modes are not
 * comparable: the mode is stored with every embedding and similarity search never mixes them.
 */
public enum SeMode {
    /**
     * OpenVoice's {@code se_extractor.get_se(path, converter, vad=True)}: silence removed by Silero VAD, what is left
     * cut into parts of about 10 s, the mean of the parts' {@code extract_se}. What OpenVoice's own entry points
     * store, hence the default.
     */
    GET_SE("get-se"),
    /** OpenVoice's {@code ToneColorConverter.extract_se} on the whole clip. */
    EXTRACT_SE("extract-se");

    /** What deployments use when nothing says otherwise. */
    public static final SeMode DEFAULT = GET_SE;

    private final String id;

    SeMode(String id) {
        this.id = id;
    }

    /** The name used in configuration, messages, payloads and the CLI: {@code get-se} or {@code extract-se}. */
    public String id() {
        return id;
    }

    /**
     * @throws IllegalArgumentException naming the accepted values, for anything but {@code get-se} or {@code extract-se}
     */
    public static SeMode fromId(String id) {
        for (SeMode mode : values()) {
            if (mode.id.equals(id)) {
                return mode;
            }
        }
        throw new IllegalArgumentException("unknown embedding mode '" + id + "'; expected one of "
                + Arrays.stream(values()).map(SeMode::id).collect(Collectors.joining(", ")));
    }

    @Override
    public String toString() {
        return id.toLowerCase(Locale.ROOT);
    }
}
