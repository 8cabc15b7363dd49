package dev.timbre.tone.checkpoint;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.regex.Pattern;

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

    /** The real files are ~850 bytes; anything near this is not a converter config. */
    public static final long MAX_CONFIG_BYTES = 1 << 20;
    private static final ObjectMapper JSON = new ObjectMapper();
    /** The version ends up in model ids and Qdrant payloads, so keep it to a short token. */
    private static final Pattern VERSION = Pattern.compile("[A-Za-z0-9._-]{1,32}");

    /** Spectrogram bins: filter_length / 2 + 1 (513). */
    public int specChannels() {
        return filterLength / 2 + 1;
    }

    /**
     * Reads and validates a converter config.json.
     *
     * <p>Required: {@code data.sampling_rate} (1000..384000), {@code data.filter_length} (16..16384),
     * {@code data.win_length} (1..filter_length), {@code data.hop_length} (1..win_length), {@code data.n_speakers}
     * (0: a converter, whose SynthesizerTrn has a ref_enc), {@code model.gin_channels} (1..4096), all JSON
     * integers. {@code _version_} is optional ("v1" when absent, as OpenVoice's api.py assumes). Other fields
     * are ignored.
     *
     * @throws CheckpointException naming the file and the field, e.g. {@code config.json: data.sampling_rate is missing}
     */
    public static ConverterConfig read(Path configJson) {
        String file = String.valueOf(configJson.getFileName());
        JsonNode root;
        try {
            long size = Files.size(configJson);
            if (size > MAX_CONFIG_BYTES) {
                throw new CheckpointException(
                        file + ": " + size + " bytes, over the " + MAX_CONFIG_BYTES + "-byte limit for a config");
            }
            root = JSON.readTree(Files.readAllBytes(configJson));
        } catch (NoSuchFileException e) {
            throw new CheckpointException(file + ": not found (" + configJson + ")", e);
        } catch (JacksonException e) {
            throw new CheckpointException(file + ": not valid JSON (" + e.getOriginalMessage() + ")", e);
        } catch (IOException e) {
            throw new CheckpointException(file + ": cannot read (" + e.getMessage() + ")", e);
        }
        if (root == null || !root.isObject()) {
            throw new CheckpointException(file + ": not a JSON object");
        }
        JsonNode data = object(root, "data", file);
        JsonNode model = object(root, "model", file);
        int samplingRate = integer(data, "data", "sampling_rate", 1000, 384_000, file);
        int filterLength = integer(data, "data", "filter_length", 16, 16_384, file);
        int winLength = integer(data, "data", "win_length", 1, filterLength, file);
        int hopLength = integer(data, "data", "hop_length", 1, winLength, file);
        int nSpeakers = integer(data, "data", "n_speakers", 0, Integer.MAX_VALUE, file);
        if (nSpeakers != 0) {
            throw new CheckpointException(file + ": data.n_speakers is " + nSpeakers
                    + "; a tone-color converter has 0 (this looks like a base speaker TTS config)");
        }
        int ginChannels = integer(model, "model", "gin_channels", 1, 4096, file);
        String version = "v1";
        JsonNode versionNode = root.get("_version_");
        if (versionNode != null && !versionNode.isNull()) {
            if (!versionNode.isTextual() || !VERSION.matcher(versionNode.asText()).matches()) {
                throw new CheckpointException(file + ": _version_ must be a short token like \"v2\"");
            }
            version = versionNode.asText();
        }
        return new ConverterConfig(samplingRate, filterLength, hopLength, winLength, ginChannels, version);
    }

    private static JsonNode object(JsonNode root, String field, String file) {
        JsonNode node = root.get(field);
        if (node == null || node.isNull()) {
            throw new CheckpointException(file + ": " + field + " is missing");
        }
        if (!node.isObject()) {
            throw new CheckpointException(file + ": " + field + " must be an object");
        }
        return node;
    }

    private static int integer(JsonNode parent, String parentName, String field, int min, int max, String file) {
        String path = parentName + "." + field;
        JsonNode node = parent.get(field);
        if (node == null || node.isNull()) {
            throw new CheckpointException(file + ": " + path + " is missing");
        }
        if (!node.isIntegralNumber() || !node.canConvertToInt()) {
            throw new CheckpointException(file + ": " + path + " must be an integer, got " + abbreviate(node));
        }
        int value = node.intValue();
        if (value < min || value > max) {
            throw new CheckpointException(
                    file + ": " + path + " is " + value + ", outside the range " + min + ".." + max);
        }
        return value;
    }

    private static String abbreviate(JsonNode node) {
        String text = node.toString();
        return text.length() > 40 ? text.substring(0, 40) + "…" : text;
    }
}
