#!/usr/bin/env bash
# Small audio files in every format and WAV variant dev.timbre.audio decodes, for its tests.
# Needs sox, flac, lame and oggenc (Debian: sox flac lame vorbis-tools). Outputs are committed, so tests need
# none of these tools; rerun only to change the set.
#
#   infra/model/make_format_samples.sh [OUT_DIR]
#
# The source is 1.0 s of 16-bit stereo at 44.1 kHz: a 300-3000 Hz sweep on the left, 440 Hz on the right, with
# 10 ms fades. Every other file is derived from it; -D (no dither) keeps the outputs reproducible.
set -euo pipefail

out="${1:-core/src/test/resources/audio/formats}"
mkdir -p "$out"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

src="$out/source_s16_stereo_44100.wav"
sox -D -n -r 44100 -b 16 -c 2 "$src" synth 1.0 sine 300-3000 sine 440 gain -6 fade 0.01 1.0 0.01

# WAV variants (sox writes WAVE_FORMAT_EXTENSIBLE by itself for more than 2 channels)
sox -D "$src" -r 8000 -c 1 -b 8 -e unsigned-integer "$out/wav_u8_mono_8000.wav"
sox -D "$src" -r 16000 -c 1 -b 24 -e signed-integer "$out/wav_s24_mono_16000.wav"
sox -D "$src" -r 48000 -b 32 -e signed-integer "$out/wav_s32_stereo_48000.wav" trim 0 0.5
sox -D "$src" -r 22050 -c 1 -b 32 -e floating-point "$out/wav_f32_mono_22050.wav"
sox -D "$src" -b 64 -e floating-point "$out/wav_f64_stereo_44100.wav" trim 0 0.25
sox -D "$src" -r 16000 -b 24 -e signed-integer "$out/wav_extensible_s24_4ch_16000.wav" remix 1 2 1 2 trim 0 0.5

# FLAC: lossless, so it must decode to exactly its source WAV
flac --silent --best -f -o "$out/flac_s16_stereo_44100.flac" "$src"
flac --silent --best -f -o "$out/flac_s24_mono_16000.flac" "$out/wav_s24_mono_16000.wav"

# MP3 (LAME writes an Info tag with encoder delay and padding, for gapless decoding)
lame --quiet -b 192 "$src" "$out/mp3_stereo_44100.mp3"
sox -D "$src" -r 22050 -c 1 -b 16 "$work/mono_22050.wav"
cp "$work/mono_22050.wav" "$out/source_s16_mono_22050.wav"
lame --quiet -b 64 "$work/mono_22050.wav" "$out/mp3_mono_22050.mp3" # MPEG-2 layer III, 576 samples a frame

# Ogg Vorbis
oggenc --quiet -q 6 -o "$out/ogg_stereo_44100.ogg" "$src"

ls -l "$out"
