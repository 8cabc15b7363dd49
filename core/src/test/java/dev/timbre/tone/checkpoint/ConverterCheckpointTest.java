package dev.timbre.tone.checkpoint;

import static dev.timbre.tone.checkpoint.TorchArchive.TensorSpec.contiguous;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ConverterCheckpointTest {
    private static final Duration BOUND = Duration.ofSeconds(20);
    private static final ConverterConfig V2 = new ConverterConfig(22050, 1024, 256, 1024, 256, "v2");

    @TempDir
    Path dir;

    @Test
    void expectedShapesAreOpenVoicesReferenceEncoder() {
        Map<String, long[]> shapes = ConverterCheckpoint.expectedRefEncShapes(V2);
        assertEquals(26, shapes.size());
        long params = 0;
        for (long[] shape : shapes.values()) {
            long n = 1;
            for (long d : shape) {
                n *= d;
            }
            params += n;
        }
        assertEquals(813_218, params, "ref_enc parameter count (docs/architecture.md §10)");
        assertArrayEquals(new long[] {384, 1152}, shapes.get("ref_enc.gru.weight_ih_l0"));
        assertArrayEquals(new long[] {128, 64, 3, 3}, shapes.get("ref_enc.convs.4.weight_v"));
        assertArrayEquals(new long[] {513}, shapes.get("ref_enc.layernorm.bias"));
    }

    @Test
    void loadsTheGoodFixtureWithTorchsValues() throws Exception {
        Path converter = CheckpointFixtures.goodConverter();
        ConverterCheckpoint checkpoint = assertTimeoutPreemptively(BOUND, () -> ConverterCheckpoint.load(converter));

        assertEquals(V2, checkpoint.config());
        Map<String, long[]> expected = ConverterCheckpoint.expectedRefEncShapes(V2);
        assertEquals(List.copyOf(expected.keySet()), List.copyOf(checkpoint.refEnc().keySet()));
        expected.forEach((key, shape) -> assertArrayEquals(shape, checkpoint.tensor(key).shape(), key));
        assertThrows(UnsupportedOperationException.class, () -> checkpoint.refEnc().remove("ref_enc.proj.bias"));

        // Obtained with: /usr/bin/python3 -c "import torch; m = torch.load('infra/model/fixtures/converter/
        //   checkpoint.pth')['model']; f = m[KEY].flatten(); print(repr(f[0].item()), repr(f[-1].item()),
        //   repr(m[KEY].double().sum().item()))"   (Debian's torch 1.13)
        assertValues(checkpoint, "ref_enc.convs.0.weight_g", 1.2800785303115845f, 1.0717668533325195f, 45.44118404388428);
        assertValues(checkpoint, "ref_enc.convs.0.weight_v", 0.7213900685310364f, -0.011743491515517235f, -7.952115897089243);
        assertValues(checkpoint, "ref_enc.convs.5.weight_v", -0.02052849531173706f, -0.04045902565121651f, -12.447987313094046);
        assertValues(checkpoint, "ref_enc.gru.weight_ih_l0", 0.01627592369914055f, 0.023254595696926117f, -26.002792638201186);
        assertValues(checkpoint, "ref_enc.gru.bias_hh_l0", -0.04425203800201416f, -0.058396197855472565f, 1.0371434877561114);
        assertValues(checkpoint, "ref_enc.proj.weight", -0.03775889798998833f, 0.016994532197713852f, -14.228550929146309);
        assertValues(checkpoint, "ref_enc.proj.bias", -0.014787898398935795f, 0.012724109925329685f, 0.04373635798401665);
        assertValues(checkpoint, "ref_enc.layernorm.weight", 0.99652498960495f, 0.9317055940628052f, 513.6783999800682);
        assertValues(checkpoint, "ref_enc.layernorm.bias", 0.1809740513563156f, -0.0469093844294548f, 0.3765660063800169);

        byte[] sha = MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(converter.resolve("checkpoint.pth")));
        assertEquals("openvoice-v2:" + HexFormat.of().formatHex(sha).substring(0, 8), checkpoint.modelId());
    }

    private static void assertValues(ConverterCheckpoint c, String key, float first, float last, double sum) {
        float[] data = c.tensor(key).data();
        assertEquals(first, data[0], 0f, key + "[0]");
        assertEquals(last, data[data.length - 1], 0f, key + "[-1]");
        double s = 0;
        for (float v : data) {
            s += v;
        }
        assertEquals(sum, s, 1e-9 * Math.max(1, data.length), key + " sum");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "legacy        | checkpoint.pth: legacy (non-zip) torch.save format is not supported; re-save it with torch >= 1.6 default settings",
        "float64       | checkpoint.pth: ref_enc.convs.0.bias has dtype float64, expected float32",
        "missing_key   | checkpoint.pth: ref_enc.gru.bias_hh_l0 is missing",
        "wrong_shape   | checkpoint.pth: ref_enc.proj.weight has shape [256, 64], expected [256, 128]",
        "bad_config    | config.json: data.sampling_rate is missing"})
    void badFixturesFailWithOneClearLine(String fixture, String message) {
        Path converter = CheckpointFixtures.bad(fixture);
        CheckpointException e = assertTimeoutPreemptively(BOUND,
                () -> assertThrows(CheckpointException.class, () -> ConverterCheckpoint.load(converter)));
        assertEquals(message, e.getMessage());
    }

    @Test
    void theEvilGlobalFixtureIsRefusedBeforeAnythingRuns() {
        Path converter = CheckpointFixtures.bad("evil_global");
        CheckpointException e = assertThrows(CheckpointException.class, () -> ConverterCheckpoint.load(converter));
        // pickle writes os.system under its real module name, posix on Linux
        assertEquals("checkpoint.pth: refusing to unpickle global posix.system", e.getMessage());
    }

    @Test
    void missingFilesAreNamed() throws IOException {
        Files.copy(CheckpointFixtures.goodConverter().resolve("config.json"), dir.resolve("config.json"));
        assertEquals("checkpoint.pth: not found in converter directory " + dir,
                assertThrows(CheckpointException.class, () -> ConverterCheckpoint.load(dir)).getMessage());
        Files.delete(dir.resolve("config.json"));
        Files.copy(CheckpointFixtures.goodConverter().resolve("checkpoint.pth"), dir.resolve("checkpoint.pth"));
        assertEquals("config.json: not found in converter directory " + dir,
                assertThrows(CheckpointException.class, () -> ConverterCheckpoint.load(dir)).getMessage());
    }

    /** A complete ref_enc state_dict written by {@link TorchArchive}, one storage per tensor. */
    private static List<TorchArchive.TensorSpec> refEncSpecs() {
        List<TorchArchive.TensorSpec> specs = new ArrayList<>();
        int storage = 0;
        for (Map.Entry<String, long[]> e : ConverterCheckpoint.expectedRefEncShapes(V2).entrySet()) {
            specs.add(contiguous(e.getKey(), String.valueOf(storage++), e.getValue()));
        }
        return specs;
    }

    private Path converterWith(List<TorchArchive.TensorSpec> specs) throws IOException {
        Files.copy(CheckpointFixtures.goodConverter().resolve("config.json"), dir.resolve("config.json"));
        TorchArchive.of("checkpoint/", specs).write(dir.resolve("checkpoint.pth"));
        return dir;
    }

    @Test
    void aNonContiguousRefEncTensorIsGatheredByStride() throws IOException {
        List<TorchArchive.TensorSpec> specs = refEncSpecs();
        // proj.weight stored as the transpose of a [128, 256] storage, as weight.t() would save it
        specs.replaceAll(s -> s.key().equals("ref_enc.proj.weight")
                ? new TorchArchive.TensorSpec(s.key(), "FloatStorage", "proj", 256 * 128, 0,
                        new long[] {256, 128}, new long[] {1, 256})
                : s);
        ConverterCheckpoint checkpoint = ConverterCheckpoint.load(converterWith(specs));
        float[] proj = checkpoint.tensor("ref_enc.proj.weight").data();
        for (int row : new int[] {0, 1, 255}) {
            for (int col : new int[] {0, 7, 127}) {
                assertEquals(TorchArchive.valueOf("proj", (long) col * 256 + row), proj[row * 128 + col]);
            }
        }
        assertEquals(TorchArchive.valueOf("25", 512), checkpoint.tensor("ref_enc.layernorm.bias").data()[512]);
    }

    @Test
    void anUnexpectedRefEncTensorIsRejected() throws IOException {
        List<TorchArchive.TensorSpec> specs = refEncSpecs();
        specs.add(contiguous("ref_enc.convs.6.bias", "extra", 128));
        assertEquals("checkpoint.pth: unexpected tensor ref_enc.convs.6.bias (not part of OpenVoice's ReferenceEncoder)",
                assertThrows(CheckpointException.class, () -> ConverterCheckpoint.load(converterWith(specs)))
                        .getMessage());
    }

    @Test
    void aConfigWithOtherSizesExpectsOtherShapes() throws IOException {
        Path converter = converterWith(refEncSpecs());
        Files.writeString(converter.resolve("config.json"), Files.readString(converter.resolve("config.json"))
                .replace("\"gin_channels\": 256", "\"gin_channels\": 192"));
        assertEquals("checkpoint.pth: ref_enc.proj.weight has shape [256, 128], expected [192, 128]",
                assertThrows(CheckpointException.class, () -> ConverterCheckpoint.load(converter)).getMessage());
    }
}
