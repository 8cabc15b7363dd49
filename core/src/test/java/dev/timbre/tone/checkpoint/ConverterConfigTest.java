package dev.timbre.tone.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ConverterConfigTest {
    /** The fields of OpenVoice V2's converter/config.json that matter here (docs/architecture.md §10). */
    private static final String V2_CONFIG = """
            {"_version_": "v2",
             "data": {"sampling_rate": 22050, "filter_length": 1024, "hop_length": 256, "win_length": 1024,
                      "n_speakers": 0},
             "model": {"zero_g": true, "inter_channels": 192, "gin_channels": 256}}""";
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private Path write(String json) throws IOException {
        return Files.writeString(dir.resolve("config.json"), json);
    }

    private ObjectNode v2() throws IOException {
        return (ObjectNode) JSON.readTree(V2_CONFIG);
    }

    private CheckpointException failure(ObjectNode config) throws IOException {
        Path file = write(config.toString());
        return assertThrows(CheckpointException.class, () -> ConverterConfig.read(file));
    }

    @Test
    void readsTheV2Config() throws IOException {
        ConverterConfig config = ConverterConfig.read(write(V2_CONFIG));
        assertEquals(new ConverterConfig(22050, 1024, 256, 1024, 256, "v2"), config);
        assertEquals(513, config.specChannels());
    }

    @Test
    void absentVersionMeansV1AsInOpenVoiceApi() throws IOException {
        ObjectNode config = v2();
        config.remove("_version_");
        assertEquals("v1", ConverterConfig.read(write(config.toString())).version());
    }

    @ParameterizedTest
    @CsvSource({
        "data, sampling_rate", "data, filter_length", "data, hop_length", "data, win_length", "data, n_speakers",
        "model, gin_channels"})
    void aMissingFieldIsNamed(String section, String field) throws IOException {
        ObjectNode config = v2();
        ((ObjectNode) config.get(section)).remove(field);
        assertEquals("config.json: " + section + "." + field + " is missing", failure(config).getMessage());
    }

    @Test
    void aMissingSectionIsNamed() throws IOException {
        ObjectNode config = v2();
        config.remove("model");
        assertEquals("config.json: model is missing", failure(config).getMessage());
    }

    @Test
    void numbersMustBeIntegers() throws IOException {
        ObjectNode config = v2();
        ((ObjectNode) config.get("data")).put("sampling_rate", "22050");
        assertEquals("config.json: data.sampling_rate must be an integer, got \"22050\"", failure(config).getMessage());
        ((ObjectNode) config.get("data")).put("hop_length", 256.5);
        ((ObjectNode) config.get("data")).put("sampling_rate", 22050);
        assertEquals("config.json: data.hop_length must be an integer, got 256.5", failure(config).getMessage());
        ((ObjectNode) config.get("data")).put("hop_length", 1L << 40);
        assertEquals("config.json: data.hop_length must be an integer, got 1099511627776",
                failure(config).getMessage());
    }

    @ParameterizedTest
    @CsvSource({
        "data, sampling_rate, 0, 'config.json: data.sampling_rate is 0, outside the range 1000..384000'",
        "data, filter_length, -1024, 'config.json: data.filter_length is -1024, outside the range 16..16384'",
        "data, win_length, 2048, 'config.json: data.win_length is 2048, outside the range 1..1024'",
        "data, hop_length, 0, 'config.json: data.hop_length is 0, outside the range 1..1024'",
        "model, gin_channels, 100000, 'config.json: model.gin_channels is 100000, outside the range 1..4096'"})
    void outOfRangeValuesAreRejected(String section, String field, int value, String message) throws IOException {
        ObjectNode config = v2();
        ((ObjectNode) config.get(section)).put(field, value);
        assertEquals(message, failure(config).getMessage());
    }

    @Test
    void aBaseSpeakerConfigIsNotAConverter() throws IOException {
        ObjectNode config = v2();
        ((ObjectNode) config.get("data")).put("n_speakers", 1);
        assertEquals("config.json: data.n_speakers is 1; a tone-color converter has 0 "
                + "(this looks like a base speaker TTS config)", failure(config).getMessage());
    }

    @Test
    void aVersionThatIsNotAShortTokenIsRejected() throws IOException {
        ObjectNode config = v2();
        config.put("_version_", "v2\nINJECTED");
        assertEquals("config.json: _version_ must be a short token like \"v2\"", failure(config).getMessage());
    }

    @Test
    void malformedFilesAreRejectedWithTheFileName() throws IOException {
        Path file = write("{\"data\": ");
        assertEquals("config.json: not valid JSON",
                assertThrows(CheckpointException.class, () -> ConverterConfig.read(file)).getMessage()
                        .replaceAll(" \\(.*", ""));
        write("[1, 2]");
        assertEquals("config.json: not a JSON object",
                assertThrows(CheckpointException.class, () -> ConverterConfig.read(file)).getMessage());
        write("");
        assertEquals("config.json: not a JSON object",
                assertThrows(CheckpointException.class, () -> ConverterConfig.read(file)).getMessage());
    }

    @Test
    void aFileOverOneMebibyteIsNotParsed() throws IOException {
        Path file = write(V2_CONFIG + " ".repeat(1 << 20));
        assertEquals("config.json: " + Files.size(file) + " bytes, over the 1048576-byte limit for a config",
                assertThrows(CheckpointException.class, () -> ConverterConfig.read(file)).getMessage());
    }

    @Test
    void aMissingFileIsNamed() {
        CheckpointException e = assertThrows(CheckpointException.class,
                () -> ConverterConfig.read(dir.resolve("config.json")));
        assertEquals("config.json: not found (" + dir.resolve("config.json") + ")", e.getMessage());
    }
}
