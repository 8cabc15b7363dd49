/**
 * The tone-color embedding, OpenVoice {@code ToneColorConverter.extract_se} on DJL/PyTorch
 * (docs/architecture.md §10): {@link dev.timbre.tone.ToneColorExtractor} is the facade; it shares one read-only
 * copy of the {@code ref_enc} weights per process and keeps one {@link dev.timbre.tone.ToneColorConverter} per
 * thread, and {@link dev.timbre.tone.TorchEngine} starts PyTorch offline with one intra-op and one inter-op thread
 * (§7). Spectrogram, reference encoder and time blocking are package-private. Depends on {@code audio} and
 * {@code tone.checkpoint}.
 */
package dev.timbre.tone;
