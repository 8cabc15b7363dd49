package dev.timbre.tone.checkpoint;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A validated OpenVoice converter directory: its config and exactly the 26 {@code ref_enc.*} tensors, each
 * checked for presence and shape. Nothing else of the checkpoint is materialised.
 *
 * @param config  the parsed config.json
 * @param refEnc  state_dict key (e.g. {@code ref_enc.convs.0.weight_v}) → float32 tensor
 * @param modelId a short identifier of the weights for results and payloads, e.g. {@code openvoice-v2:9652c27e}
 */
public record ConverterCheckpoint(ConverterConfig config, Map<String, Tensor> refEnc, String modelId) {
    private static final Logger log = LoggerFactory.getLogger(ConverterCheckpoint.class);

    public static final String CONFIG_FILE = "config.json";
    public static final String CHECKPOINT_FILE = "checkpoint.pth";
    /** OpenVoice's api.py loads {@code checkpoint_dict['model']} and ignores any other top-level entry. */
    public static final String STATE_DICT_KEY = "model";
    public static final String REF_ENC_PREFIX = "ref_enc.";

    /** ReferenceEncoder's conv channels: 1 input plane, then ref_enc_filters = [32, 32, 64, 64, 128, 128]. */
    private static final int[] CONV_CHANNELS = {1, 32, 32, 64, 64, 128, 128};
    /** ReferenceEncoder's GRU hidden size, hard-coded as 256 // 2 in OpenVoice's models.py. */
    private static final int GRU_HIDDEN = 128;

    public Tensor tensor(String key) {
        Tensor t = refEnc.get(key);
        if (t == null) {
            throw new CheckpointException("checkpoint.pth: missing tensor " + key);
        }
        return t;
    }

    /**
     * Loads {@code config.json} and the {@code ref_enc.*} tensors of {@code checkpoint.pth} from an unmodified
     * OpenVoice converter directory. Storages of all other tensors (the other 460 keys, ~128 MB) are not read.
     *
     * @return a checkpoint whose {@link #refEnc()} is unmodifiable and holds exactly the keys of
     *         {@link #expectedRefEncShapes(ConverterConfig)}, in that order, with those shapes
     * @throws CheckpointException with one line naming the file and, where it applies, the field or key: a
     *                             missing file, a bad config, a legacy/corrupt/hostile checkpoint, a missing,
     *                             unexpected, non-float32 or mis-shaped {@code ref_enc.*} tensor
     */
    public static ConverterCheckpoint load(Path converterDir) {
        long started = System.nanoTime();
        Path configPath = converterDir.resolve(CONFIG_FILE);
        Path checkpointPath = converterDir.resolve(CHECKPOINT_FILE);
        if (!Files.isRegularFile(configPath)) {
            throw new CheckpointException(CONFIG_FILE + ": not found in converter directory " + converterDir);
        }
        if (!Files.isRegularFile(checkpointPath)) {
            throw new CheckpointException(CHECKPOINT_FILE + ": not found in converter directory " + converterDir);
        }
        ConverterConfig config = ConverterConfig.read(configPath);
        Map<String, long[]> expected = expectedRefEncShapes(config);
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        try (CheckpointReader reader = CheckpointReader.open(checkpointPath, STATE_DICT_KEY)) {
            Map<String, CheckpointReader.TensorInfo> present = reader.tensors();
            for (String key : reader.keys()) {
                if (key.startsWith(REF_ENC_PREFIX) && !expected.containsKey(key)) {
                    throw new CheckpointException(CHECKPOINT_FILE + ": unexpected tensor "
                            + RestrictedUnpickler.printable(key) + " (not part of OpenVoice's ReferenceEncoder)");
                }
            }
            // Check every name, dtype and shape before reading any tensor data
            for (Map.Entry<String, long[]> e : expected.entrySet()) {
                String key = e.getKey();
                CheckpointReader.TensorInfo info = present.get(key);
                if (info == null) {
                    throw new CheckpointException(CHECKPOINT_FILE + ": " + key
                            + (reader.keys().contains(key) ? " is not a tensor" : " is missing"));
                }
                if (!info.dtype().equals("float32")) {
                    throw new CheckpointException(
                            CHECKPOINT_FILE + ": " + key + " has dtype " + info.dtype() + ", expected float32");
                }
                if (!Arrays.equals(info.shape(), e.getValue())) {
                    throw new CheckpointException(CHECKPOINT_FILE + ": " + key + " has shape " + info.shapeString()
                            + ", expected " + Arrays.toString(e.getValue()));
                }
            }
            for (String key : expected.keySet()) {
                tensors.put(key, reader.readFloat32(key));
            }
        }
        String modelId = "openvoice-" + config.version() + ":" + sha256Hex(checkpointPath).substring(0, 8);
        log.info("loaded converter checkpoint dir={} modelId={} tensors={} ms={}", converterDir, modelId,
                tensors.size(), (System.nanoTime() - started) / 1_000_000);
        return new ConverterCheckpoint(config, Collections.unmodifiableMap(tensors), modelId);
    }

    /**
     * The 26 {@code ref_enc.*} keys of OpenVoice's ReferenceEncoder and their shapes, for
     * spec_channels = filter_length / 2 + 1 and the config's gin_channels (docs/architecture.md §10).
     * The GRU input is 128 channels × the frequency bins left after six stride-2 convs (9 for 513).
     */
    public static Map<String, long[]> expectedRefEncShapes(ConverterConfig config) {
        Map<String, long[]> shapes = new LinkedHashMap<>();
        int spec = config.specChannels();
        long freq = spec;
        for (int i = 0; i < 6; i++) {
            int in = CONV_CHANNELS[i];
            int out = CONV_CHANNELS[i + 1];
            String prefix = REF_ENC_PREFIX + "convs." + i + ".";
            shapes.put(prefix + "bias", new long[] {out});
            shapes.put(prefix + "weight_g", new long[] {out, 1, 1, 1});
            shapes.put(prefix + "weight_v", new long[] {out, in, 3, 3});
            freq = (freq - 3 + 2) / 2 + 1; // calculate_channels: kernel 3, stride 2, pad 1
        }
        long gruInput = CONV_CHANNELS[6] * freq;
        shapes.put("ref_enc.gru.weight_ih_l0", new long[] {3 * GRU_HIDDEN, gruInput});
        shapes.put("ref_enc.gru.weight_hh_l0", new long[] {3 * GRU_HIDDEN, GRU_HIDDEN});
        shapes.put("ref_enc.gru.bias_ih_l0", new long[] {3 * GRU_HIDDEN});
        shapes.put("ref_enc.gru.bias_hh_l0", new long[] {3 * GRU_HIDDEN});
        shapes.put("ref_enc.proj.weight", new long[] {config.ginChannels(), GRU_HIDDEN});
        shapes.put("ref_enc.proj.bias", new long[] {config.ginChannels()});
        shapes.put("ref_enc.layernorm.weight", new long[] {spec});
        shapes.put("ref_enc.layernorm.bias", new long[] {spec});
        return shapes;
    }

    /** Streams the file through SHA-256; the real checkpoint is 131 MB, so it is never held in memory. */
    private static String sha256Hex(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            byte[] buffer = new byte[1 << 16];
            for (int n; (n = in.read(buffer)) != -1; ) {
                sha.update(buffer, 0, n);
            }
            return HexFormat.of().formatHex(sha.digest());
        } catch (IOException e) {
            throw new CheckpointException(CHECKPOINT_FILE + ": cannot read (" + e.getMessage() + ")", e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
    }
}
