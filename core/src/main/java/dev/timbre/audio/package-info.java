/**
 * Encoded audio to what {@code librosa.load(path, sr=rate)} returns: format detection from magic bytes, decoders
 * for WAV, FLAC, MP3 and Ogg Vorbis written for hostile input (every size bounded by the bytes present and the
 * limits, a decode time budget), the mono mix, and resampling that reproduces resampy's {@code kaiser_best}
 * (docs/architecture.md §10). Every rejection is one {@link dev.timbre.audio.InvalidAudioException} line, a
 * permanent job failure (§6). {@link dev.timbre.audio.AudioLoader} is the entry point. Depends on no other Timbre
 * package.
 */
package dev.timbre.audio;
