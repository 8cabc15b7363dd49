/**
 * Reading an unmodified OpenVoice converter directory ({@code config.json} + {@code checkpoint.pth}) as untrusted
 * input: the {@code torch.save} zip archive is unpickled by a restricted unpickler that allows only the globals a
 * state_dict needs, and only the 26 {@code ref_enc.*} tensors are read, each checked for dtype and shape
 * (docs/architecture.md §10). Failures are one {@link dev.timbre.tone.checkpoint.CheckpointException} line naming
 * the file and key. Depends on no other Timbre package.
 */
package dev.timbre.tone.checkpoint;
