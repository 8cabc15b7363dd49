package dev.timbre.tone.checkpoint;

import java.util.Map;

/**
 * A validated OpenVoice converter directory: its config and exactly the 26 {@code ref_enc.*} tensors, each
 * checked for presence and shape. Nothing else of the checkpoint is materialised.
 *
 * @param config  the parsed config.json
 * @param refEnc  state_dict key (e.g. {@code ref_enc.convs.0.weight_v}) → float32 tensor
 * @param modelId a short identifier of the weights for results and payloads, e.g. {@code openvoice-v2:9652c27e}
 */
public record ConverterCheckpoint(ConverterConfig config, Map<String, Tensor> refEnc, String modelId) {

    public Tensor tensor(String key) {
        Tensor t = refEnc.get(key);
        if (t == null) {
            throw new CheckpointException("checkpoint.pth: missing tensor " + key);
        }
        return t;
    }
}
