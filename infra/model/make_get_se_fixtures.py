#!/usr/bin/env python3
"""Goldens for Timbre's get-se mode, produced by OpenVoice's real code path (docs/architecture.md §10).

    python3 infra/model/make_get_se_fixtures.py --openvoice DIR --whisper-timestamped DIR --whisper DIR \
        --silero DIR [--resampy DIR] [--make-clips] [--out infra/model/fixtures/get_se]

Runs OpenVoice's ``se_extractor.get_se(path, converter, vad=True)`` on every clip in ``--out`` and writes
``goldens.json``: for each clip its rate and channels, the speech segments (seconds) that ``split_audio_vad``
printed, the speech kept ("after vad: dur"), the lengths of the parts it exported, and the embedding, or the
error OpenVoice raised. Real code on the path:

  * OpenVoice ``openvoice/se_extractor.py`` and ``openvoice/api.py`` (``ToneColorConverter.extract_se``,
    ``mel_processing.spectrogram_torch``, ``models.SynthesizerTrn``), from a source checkout (--openvoice);
  * whisper-timestamped ``transcribe.py`` (``get_audio_tensor``, ``get_vad_segments``), from a checkout;
  * openai-whisper ``whisper/audio.py`` (``load_audio``: the ``ffmpeg`` command line) and ``whisper/utils.py``;
  * Silero VAD from a checkout of snakers4/silero-vad master, placed where whisper-timestamped looks for it
    (``$TORCH_HOME/hub/snakers4_silero-vad_master``, ``torch.hub.load(..., source='local')``), ONNX model
    (``silero_vad.onnx``, v6.2) through onnxruntime, as whisper-timestamped picks when onnxruntime is installed;
  * pydub (pip), ffmpeg/ffprobe (Debian), soundfile, numpy, torch;
  * resampy (``kaiser_best``; Debian's python3-resampy copied to --resampy, or the pip package).

Stubbed, because get-se never goes through them: ``faster_whisper`` (only ``split_audio_whisper``, vad=False),
``wavmark`` (the watermark model the converter loads and extract_se never uses), ``openvoice.text`` (the TTS text
front end), ``dtw`` (whisper-timestamped's word alignment), ``torchaudio`` (imported by silero's utils for
read_audio/save_audio only), the rest of the ``whisper`` package (model, decoding, tokenizer). ``librosa`` is a
shim of librosa 0.9.1's ``load`` (the version OpenVoice pins; its default ``res_type='kaiser_best'``): soundfile
read as float32, ``np.mean(y, axis=0)`` for more than one channel, ``resampy.resample(..., filter='kaiser_best')``
and ``fix_length`` to ``ceil(n * ratio)``, because the librosa on PyPI today defaults to soxr.

The converter is infra/model/fixtures/converter (random weights, see make_fixtures.py). OpenVoice's own
``load_ckpt`` (strict=False) would still fail on the fixture's deliberately mis-shaped non-ref_enc keys, so only
the ``ref_enc.*`` tensors are loaded into the real ``ToneColorConverter`` model; extract_se uses nothing else.

With --make-clips the clips are first synthesised with espeak-ng and sox (seeded noise; espeak-ng's output may
differ between versions, so the committed clips, not this step, are the reference).
"""

import argparse
import ast
import contextlib
import glob
import hashlib
import importlib.machinery
import importlib.util
import io
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import types

import numpy as np

CLIPS = [
    # name, rate, channels, what it tests
    ("g01_pauses_22050.wav", 22050, 1, "pauses of 0.4-3 s, lead-in and tail silence"),
    ("g02_noise_hum_16000.wav", 16000, 1, "white noise and 50 Hz hum under the speech"),
    ("g03_stereo_22050.wav", 22050, 2, "stereo, the two channels at different gains"),
    ("g04_minute_16000.wav", 16000, 1, "a minute long, several parts"),
    ("g05_speech_22050.wav", 22050, 1, "the get-se example clip: ~12.5 s, continuous speech"),
    ("g06_lead_tail_44100.wav", 44100, 1, "44.1 kHz, long lead-in and tail silence"),
    ("g07_short_16000.wav", 16000, 1, "about 2 s of speech: too little"),
]

SENTENCES = [
    "The quick brown fox jumps over the lazy dog near the river bank.",
    "She sells sea shells by the sea shore every summer morning.",
    "A tone colour converter turns one voice into another voice.",
    "Please call Stella and ask her to bring these things with her from the store.",
    "Six spoons of fresh snow peas, five thick slabs of blue cheese.",
    "We also need a small plastic snake and a big toy frog for the kids.",
    "The rainbow is a division of white light into many beautiful colours.",
    "When the sunlight strikes raindrops in the air, they act as a prism.",
]


# --------------------------------------------------------------------------------------------------------
# Clips
# --------------------------------------------------------------------------------------------------------

def speak(text, voice, speed, tmp):
    path = os.path.join(tmp, "s.wav")
    subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", path, text], check=True)
    import soundfile as sf
    y, sr = sf.read(path, dtype="float64")
    assert sr == 22050, sr
    # trim espeak's own leading/trailing silence so the pauses are the ones asked for
    nz = np.nonzero(np.abs(y) > 1e-3)[0]
    return y[nz[0]:nz[-1] + 1]


def silence(seconds):
    return np.zeros(int(round(seconds * 22050)))


def write_clip(path, y22, rate, channels, gains=(1.0, 0.6)):
    import soundfile as sf
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "src.wav")
        sf.write(src, np.clip(y22, -1, 1).astype(np.float32), 22050, subtype="FLOAT")
        mono = os.path.join(tmp, "mono.wav")
        subprocess.run(["sox", src, "-b", "16", "-e", "signed-integer", mono, "rate", "-v", str(rate), "dither", "-s"]
                       if rate != 22050 else ["sox", src, "-b", "16", "-e", "signed-integer", mono, "dither", "-s"],
                       check=True, env=dict(os.environ, SOX_OPTS="-R"))
        if channels == 1:
            os.replace(mono, path)
        else:
            y, _ = sf.read(mono, dtype="int16")
            stereo = np.stack([np.round(y * g).astype(np.int16) for g in gains], axis=1)
            sf.write(path, stereo, rate, subtype="PCM_16")


def make_clips(out):
    rng = np.random.default_rng(20261204)
    with tempfile.TemporaryDirectory() as tmp:
        s = [speak(t, v, sp, tmp) for t, v, sp in [
            (SENTENCES[0], "en-us", 165), (SENTENCES[1], "en", 150), (SENTENCES[2], "en-us+f3", 170),
            (SENTENCES[3], "en+m3", 160), (SENTENCES[4], "en-us", 175), (SENTENCES[5], "en+f2", 155),
            (SENTENCES[6], "en-us+m2", 160), (SENTENCES[7], "en", 170)]]

        def cat(*parts):
            return np.concatenate(parts) * 0.8

        # g01: lead-in, pauses 0.4 / 1.2 / 3.0 / 0.7 s, tail
        g01 = cat(silence(1.0), s[0], silence(0.4), s[1], silence(1.2), s[2], silence(3.0), s[3], silence(0.7),
                  s[4], silence(1.5))
        write_clip(os.path.join(out, CLIPS[0][0]), g01, 22050, 1)
        # g02: noise and hum
        g02 = cat(silence(0.8), s[5], silence(0.6), s[6], silence(2.0), s[0], silence(0.8))
        t = np.arange(len(g02)) / 22050
        g02 = g02 + 0.01 * rng.standard_normal(len(g02)) + 0.03 * np.sin(2 * np.pi * 50 * t)
        write_clip(os.path.join(out, CLIPS[1][0]), g02, 16000, 1)
        # g03: stereo
        g03 = cat(silence(0.5), s[7], silence(1.0), s[2], silence(0.5))
        write_clip(os.path.join(out, CLIPS[2][0]), g03, 22050, 2)
        # g04: a minute
        parts = [silence(1.2)]
        pauses = [0.5, 1.5, 0.9, 2.5, 0.4, 1.1, 0.6, 2.0]
        i = 0
        while sum(len(p) for p in parts) < 58.0 * 22050:
            parts.append(s[i % len(s)])
            parts.append(silence(pauses[i % len(pauses)]))
            i += 1
        g04 = cat(*parts)[: 60 * 22050]
        write_clip(os.path.join(out, CLIPS[3][0]), g04, 16000, 1)
        # g05: continuous speech, ~12.5 s
        g05 = cat(silence(0.2), s[3], silence(0.25), s[6], silence(0.25), s[1], silence(0.25), s[7])
        g05 = g05[: int(12.6 * 22050)]
        write_clip(os.path.join(out, CLIPS[4][0]), g05, 22050, 1)
        # g06: long lead-in and tail, 44.1 kHz
        g06 = cat(silence(2.5), s[4], silence(0.8), s[5], silence(2.0))
        write_clip(os.path.join(out, CLIPS[5][0]), g06, 44100, 1)
        # g07: ~2 s of speech
        short = s[2][: int(2.0 * 22050)]
        g07 = cat(silence(1.0), short, silence(1.0))
        write_clip(os.path.join(out, CLIPS[6][0]), g07, 16000, 1)


# --------------------------------------------------------------------------------------------------------
# OpenVoice's environment: real modules, stubs for what get-se never reaches
# --------------------------------------------------------------------------------------------------------

def stub(name, **attrs):
    module = types.ModuleType(name)
    module.__spec__ = importlib.machinery.ModuleSpec(name, None)  # torch.hub checks hubconf's dependencies
    module.__dict__.update(attrs)
    sys.modules[name] = module
    return module


def load_file_module(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def librosa_shim():
    """librosa 0.9.1's load(path, sr=22050) / load(path, sr=None, mono=True), as OpenVoice calls it."""
    import resampy
    import soundfile as sf

    def to_mono(y):
        if y.ndim > 1:
            y = np.mean(y, axis=0)
        return y

    def fix_length(y, size):
        n = y.shape[-1]
        if n > size:
            return y[..., :size]
        if n < size:
            return np.pad(y, [(0, 0)] * (y.ndim - 1) + [(0, size - n)])
        return y

    def resample(y, orig_sr, target_sr, res_type="kaiser_best", fix=True):
        if orig_sr == target_sr:
            return y
        ratio = float(target_sr) / orig_sr
        n_samples = int(np.ceil(y.shape[-1] * ratio))
        y_hat = resampy.resample(y, orig_sr, target_sr, filter=res_type, axis=-1)
        if fix:
            y_hat = fix_length(y_hat, n_samples)
        return np.asarray(y_hat, dtype=y.dtype)

    def load(path, sr=22050, mono=True, offset=0.0, duration=None, dtype=np.float32, res_type="kaiser_best"):
        with sf.SoundFile(path) as f:
            sr_native = f.samplerate
            y = f.read(frames=-1, dtype=dtype, always_2d=False).T
        if mono:
            y = to_mono(y)
        if sr is not None:
            y = resample(y, orig_sr=sr_native, target_sr=sr, res_type=res_type)
        else:
            sr = sr_native
        return y, sr

    def mel(*args, **kwargs):
        raise NotImplementedError("librosa.filters.mel is not on the get-se path")

    lib = stub("librosa", load=load, resample=resample, to_mono=to_mono, __version__="0.9.1-shim")
    lib.filters = stub("librosa.filters", mel=mel)
    lib.util = stub("librosa.util", fix_length=fix_length)


def prepare(args):
    if args.resampy:
        sys.path.insert(0, args.resampy)
        try:
            import pkg_resources  # noqa: F401  (Debian's resampy 0.4.2 asks it for its data folder)
        except ImportError:
            def resource_filename(package, resource):
                spec = importlib.util.find_spec(package)
                return os.path.join(os.path.dirname(spec.origin), resource)

            stub("pkg_resources", resource_filename=resource_filename)
    os.environ["TORCH_HOME"] = args.torch_home
    librosa_shim()
    stub("faster_whisper", WhisperModel=None)

    class _Watermark:
        def to(self, device):
            return self

    stub("wavmark", load_model=lambda: _Watermark())
    stub("dtw", dtw=None)
    stub("torchaudio", __version__="0.0-stub")
    # openai-whisper: the real audio.py and utils.py, not the model/tokenizer (tiktoken, downloads)
    whisper_pkg = os.path.join(args.whisper, "whisper")
    pkg = stub("whisper", __path__=[whisper_pkg])
    load_file_module("whisper.utils", os.path.join(whisper_pkg, "utils.py"))
    load_file_module("whisper.audio", os.path.join(whisper_pkg, "audio.py"))
    version = {}
    exec(open(os.path.join(whisper_pkg, "version.py")).read(), version)
    pkg.__version__ = version["__version__"]
    pkg.load_audio = sys.modules["whisper.audio"].load_audio
    pkg.pad_or_trim = sys.modules["whisper.audio"].pad_or_trim
    # the model is never run on this path; transcribe.py only subclasses its TextDecoder at import
    pkg.model = stub("whisper.model", disable_sdpa=contextlib.nullcontext, TextDecoder=object, Whisper=object)
    # whisper_timestamped/__init__.py only re-exports the whisper model helpers; its transcribe.py is the code
    wts_pkg = os.path.join(args.whisper_timestamped, "whisper_timestamped")
    stub("whisper_timestamped", __path__=[wts_pkg])
    load_file_module("whisper_timestamped.transcribe", os.path.join(wts_pkg, "transcribe.py"))
    sys.path.insert(0, args.openvoice)
    stub("openvoice.text", text_to_sequence=None)
    from openvoice import se_extractor
    from openvoice.api import ToneColorConverter
    return se_extractor, ToneColorConverter


def load_converter(ToneColorConverter, converter_dir):
    import torch
    converter = ToneColorConverter(os.path.join(converter_dir, "config.json"), device="cpu")
    state = torch.load(os.path.join(converter_dir, "checkpoint.pth"), map_location="cpu")["model"]
    ref_enc = {k: v for k, v in state.items() if k.startswith("ref_enc.")}
    missing, unexpected = converter.model.load_state_dict(ref_enc, strict=False)
    assert not unexpected, unexpected
    assert not [k for k in missing if k.startswith("ref_enc.")], missing
    return converter


def run_get_se(se_extractor, converter, path):
    import soundfile as sf
    out = io.StringIO()
    result = {}
    with tempfile.TemporaryDirectory() as target:
        try:
            with contextlib.redirect_stdout(out):
                se, _ = se_extractor.get_se(path, converter, target_dir=target, vad=True)
            result["embedding"] = [float(x) for x in se.detach().cpu().numpy().reshape(-1)]
            parts = sorted(glob.glob(os.path.join(target, "*", "wavs", "*.wav")),
                           key=lambda p: int(re.search(r"_seg(\d+)\.wav$", p).group(1)))
            result["splits_s"] = [sf.info(p).frames / sf.info(p).samplerate for p in parts]
        except AssertionError as e:
            result["error"] = str(e)
    printed = out.getvalue()
    seg_line = next(line for line in printed.splitlines() if line.startswith("["))
    result["segments_s"] = [list(s) for s in ast.literal_eval(seg_line)]
    result["kept_s"] = float(re.search(r"after vad: dur = ([0-9.eE+-]+)", printed).group(1))
    return result


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(here, "fixtures", "get_se"))
    ap.add_argument("--converter", default=os.path.join(here, "fixtures", "converter"))
    ap.add_argument("--openvoice", required=True, help="checkout of myshell-ai/OpenVoice")
    ap.add_argument("--whisper-timestamped", required=True, help="checkout of linto-ai/whisper-timestamped")
    ap.add_argument("--whisper", required=True, help="checkout of openai/whisper")
    ap.add_argument("--torch-home", required=True,
                    help="TORCH_HOME whose hub/snakers4_silero-vad_master is a checkout of snakers4/silero-vad")
    ap.add_argument("--resampy", help="folder that holds the resampy package, if it is not installed")
    ap.add_argument("--make-clips", action="store_true")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    if args.make_clips:
        make_clips(args.out)
    se_extractor, ToneColorConverter = prepare(args)
    converter = load_converter(ToneColorConverter, os.path.abspath(args.converter))
    import soundfile as sf
    entries = []
    for name, rate, channels, about in CLIPS:
        path = os.path.join(args.out, name)
        info = sf.info(path)
        assert (info.samplerate, info.channels) == (rate, channels), (name, info)
        result = run_get_se(se_extractor, converter, path)
        entry = {"file": name, "about": about, "rate": rate, "channels": channels,
                 "duration_s": info.frames / info.samplerate}
        # the VAD's input, as whisper.load_audio has ffmpeg write it (for FfmpegMono16k's bit-exactness)
        pcm = subprocess.run(["ffmpeg", "-nostdin", "-threads", "0", "-i", path, "-f", "s16le", "-ac", "1",
                              "-acodec", "pcm_s16le", "-ar", "16000", "-"], capture_output=True, check=True).stdout
        entry["pcm16k_samples"] = len(pcm) // 2
        entry["pcm16k_sha256"] = hashlib.sha256(pcm).hexdigest()
        entry.update(result)
        entries.append(entry)
        print(name, len(result["segments_s"]), "segments, kept", result["kept_s"],
              "splits", result.get("splits_s"), result.get("error", ""), file=sys.stderr)
    doc = {
        "about": "OpenVoice se_extractor.get_se(path, converter, vad=True) on each clip; "
                 "made by infra/model/make_get_se_fixtures.py",
        "converter": "infra/model/fixtures/converter",
        "clips": entries,
    }
    with open(os.path.join(args.out, "goldens.json"), "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
