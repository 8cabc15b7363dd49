#!/usr/bin/python3
"""Conformance fixtures for Timbre's tone-color extractor.

Run with Debian's Python and torch (python3-torch, torch 1.13), never a pyenv Python:

    /usr/bin/python3 infra/model/make_fixtures.py [--out infra/model/fixtures]

Writes, deterministically (fixed seeds; re-running gives byte-identical files):

  converter/config.json      OpenVoice v2 converter config (docs/architecture.md §10)
  converter/checkpoint.pth   torch.save({'model': state_dict}) in the zip format: the 26 ref_enc.* tensors at
                             their real shapes with seeded random float32 values, plus a few small non-ref_enc
                             keys a loader must skip
  audio/*.wav                synthetic voice-like clips in the WAV layouts their names say
  goldens.json               embeddings of every clip, computed here by an independent implementation
  bad/<case>/                broken converter directories a loader must reject with a clear error

The golden embeddings come from this file's own implementation of the maths in docs/architecture.md §10
(numpy DFT spectrogram, torch functional ops and a hand-written GRU loop for the encoder). It is checked
against torch.stft, torch.nn.GRU and an nn.Module build of the encoder loaded with torch.load, but the
numbers written are this implementation's. The weights are random: the fixtures test plumbing and
conformance, not real voices.
"""

import argparse
import collections
import hashlib
import json
import math
import os
import shutil
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F

SR = 22050
N_FFT = 1024
HOP = 256
WIN = 1024
PAD = (N_FFT - HOP) // 2  # 384
CONV_CHANNELS = [(1, 32), (32, 32), (32, 64), (64, 64), (64, 128), (128, 128)]
GRU_IN = 128 * 9  # 1152
GRU_H = 128
GIN = 256
SPEC_CHANNELS = N_FFT // 2 + 1  # 513

WEIGHT_SEED = 20240417  # weights of converter/checkpoint.pth

# --------------------------------------------------------------------------------------------------------
# 1. Converter config (OpenVoice v2 layout: 2-space indent, no trailing newline)
# --------------------------------------------------------------------------------------------------------


def converter_config(drop_sampling_rate=False):
    data = collections.OrderedDict()
    data["sampling_rate"] = SR
    data["filter_length"] = N_FFT
    data["hop_length"] = HOP
    data["win_length"] = WIN
    data["n_speakers"] = 0
    if drop_sampling_rate:
        del data["sampling_rate"]
    model = collections.OrderedDict([
        ("zero_g", True),
        ("inter_channels", 192),
        ("hidden_channels", 192),
        ("filter_channels", 768),
        ("n_heads", 2),
        ("n_layers", 6),
        ("kernel_size", 3),
        ("p_dropout", 0.1),
        ("resblock", "1"),
        ("resblock_kernel_sizes", [3, 7, 11]),
        ("resblock_dilation_sizes", [[1, 3, 5], [1, 3, 5], [1, 3, 5]]),
        ("upsample_rates", [8, 8, 2, 2]),
        ("upsample_initial_channel", 512),
        ("upsample_kernel_sizes", [16, 16, 4, 4]),
        ("gin_channels", GIN),
    ])
    return collections.OrderedDict([("_version_", "v2"), ("data", data), ("model", model)])


def write_config(path, cfg):
    with open(path, "w", encoding="utf-8") as f:
        f.write(json.dumps(cfg, indent=2))  # no trailing newline, like the shipped file


# --------------------------------------------------------------------------------------------------------
# 2. Checkpoint
# --------------------------------------------------------------------------------------------------------

# Non-ref_enc keys in the fixture: tiny stand-ins for dec/enc_q/flow, which a loader must filter out.
EXTRA_KEYS = [
    ("dec.conv_pre.weight", (4, 3, 2)),
    ("enc_q.proj.bias", (8,)),
    ("flow.flows.0.enc.in_layers.0.bias", (6,)),
]


def ref_enc_shapes():
    """The 26 ref_enc.* keys in OpenVoice's state_dict order, with shapes (docs/architecture.md §10)."""
    shapes = []
    for i, (cin, cout) in enumerate(CONV_CHANNELS):
        shapes.append((f"ref_enc.convs.{i}.bias", (cout,)))
        shapes.append((f"ref_enc.convs.{i}.weight_g", (cout, 1, 1, 1)))
        shapes.append((f"ref_enc.convs.{i}.weight_v", (cout, cin, 3, 3)))
    shapes += [
        ("ref_enc.gru.weight_ih_l0", (3 * GRU_H, GRU_IN)),
        ("ref_enc.gru.weight_hh_l0", (3 * GRU_H, GRU_H)),
        ("ref_enc.gru.bias_ih_l0", (3 * GRU_H,)),
        ("ref_enc.gru.bias_hh_l0", (3 * GRU_H,)),
        ("ref_enc.proj.weight", (GIN, GRU_H)),
        ("ref_enc.proj.bias", (GIN,)),
        ("ref_enc.layernorm.weight", (SPEC_CHANNELS,)),
        ("ref_enc.layernorm.bias", (SPEC_CHANNELS,)),
    ]
    assert len(shapes) == 26
    assert sum(int(np.prod(s)) for _, s in shapes) == 813218
    return shapes


def make_ref_enc_weights(seed=WEIGHT_SEED):
    """Seeded random float32 weights. Scales are chosen so activations stay in range (no saturation)."""
    rng = np.random.default_rng(seed)
    w = collections.OrderedDict()
    for i, (cin, cout) in enumerate(CONV_CHANNELS):
        fan_in = cin * 9
        v = rng.standard_normal((cout, cin, 3, 3)) * math.sqrt(2.0 / fan_in)
        norm = np.sqrt((v ** 2).reshape(cout, -1).sum(axis=1))
        # weight_g deliberately != ||v||, so a port that ignores g (or the norm) gets different numbers.
        g = norm * rng.uniform(0.5, 1.5, size=cout)
        w[f"ref_enc.convs.{i}.bias"] = rng.standard_normal(cout) * 0.05
        w[f"ref_enc.convs.{i}.weight_g"] = g.reshape(cout, 1, 1, 1)
        w[f"ref_enc.convs.{i}.weight_v"] = v
    w["ref_enc.gru.weight_ih_l0"] = rng.standard_normal((3 * GRU_H, GRU_IN)) * (1.0 / math.sqrt(GRU_IN))
    w["ref_enc.gru.weight_hh_l0"] = rng.standard_normal((3 * GRU_H, GRU_H)) * (0.8 / math.sqrt(GRU_H))
    w["ref_enc.gru.bias_ih_l0"] = rng.standard_normal(3 * GRU_H) * 0.1
    w["ref_enc.gru.bias_hh_l0"] = rng.standard_normal(3 * GRU_H) * 0.1
    w["ref_enc.proj.weight"] = rng.standard_normal((GIN, GRU_H)) * (1.0 / math.sqrt(GRU_H))
    w["ref_enc.proj.bias"] = rng.standard_normal(GIN) * 0.02
    w["ref_enc.layernorm.weight"] = 1.0 + 0.1 * rng.standard_normal(SPEC_CHANNELS)
    w["ref_enc.layernorm.bias"] = 0.1 * rng.standard_normal(SPEC_CHANNELS)
    out = collections.OrderedDict()
    for k, shape in ref_enc_shapes():
        a = np.asarray(w[k], dtype=np.float32)
        assert a.shape == shape, (k, a.shape, shape)
        out[k] = torch.from_numpy(a.copy())
    return out


def extra_tensors(seed=7):
    rng = np.random.default_rng(seed)
    return [(k, torch.from_numpy(rng.standard_normal(s).astype(np.float32))) for k, s in EXTRA_KEYS]


def metadata_for(keys):
    """The _metadata attribute nn.Module.state_dict() attaches (prefix -> {'version': 1})."""
    prefixes = collections.OrderedDict([("", {"version": 1})])
    for k in keys:
        parts = k.split(".")[:-1]
        for n in range(1, len(parts) + 1):
            prefixes.setdefault(".".join(parts[:n]), {"version": 1})
    return prefixes


def state_dict(pairs, with_metadata=True):
    """An OrderedDict like nn.Module.state_dict() returns, _metadata included."""
    sd = collections.OrderedDict(pairs)
    if with_metadata:
        sd._metadata = metadata_for(sd.keys())
    return sd


def save_checkpoint(path, sd, legacy=False, extra_top=None):
    obj = {"model": sd}
    if extra_top:
        obj.update(extra_top)
    if legacy:
        torch.save(obj, path, _use_new_zipfile_serialization=False)
        _make_legacy_deterministic(path)
    else:
        torch.save(obj, path)


def _make_legacy_deterministic(path):
    """The legacy format names storages by their memory address; rename them to fixed same-length keys so
    re-running the script gives identical bytes."""
    import pickle

    with open(path, "rb") as f:
        raw = f.read()
    with open(path, "rb") as f:
        for _ in range(3):  # magic number, protocol version, sys_info
            pickle.load(f)
        class _Any(dict):  # stands in for every global, so nothing is rebuilt
            def __init__(self, *a, **k):
                super().__init__()

            def __setstate__(self, state):
                pass

        class _Skim(pickle.Unpickler):
            def find_class(self, module, name):
                return _Any

            def persistent_load(self, pid):
                return None

        _Skim(f).load()
        keys = pickle.load(f)
    assert len(keys) == 1, "one storage only, or the storage order would depend on memory addresses"
    for i, k in enumerate(keys):
        # keys are BINUNICODE strings (opcode 'X', 4-byte length); pickles hold no byte offsets
        old_op = b"X" + struct.pack("<I", len(k)) + k.encode()
        new_key = str(i)
        assert raw.count(old_op) >= 2
        raw = raw.replace(old_op, b"X" + struct.pack("<I", len(new_key)) + new_key.encode())
    with open(path, "wb") as f:
        f.write(raw)
    torch.load(path)  # still loads


# --------------------------------------------------------------------------------------------------------
# 3. Synthetic voices and WAV writing
# --------------------------------------------------------------------------------------------------------


def synth_voice(sr, n, f0, formants, seed, vib_rate=5.5, vib_depth=0.03, peak=0.6, noise=0.01, syll_rate=3.5):
    """A voice-like float64 signal: a band-limited harmonic source (1/k amplitudes) whose f0 has vibrato and
    slow drift, through a cascade of 2-pole formant resonators, plus a little white noise, shaped by a
    syllable-rate amplitude envelope with 20 ms fades. Scaled to the given peak."""
    from scipy.signal import lfilter

    rng = np.random.default_rng(seed)
    t = np.arange(n) / sr
    drift = 0.02 * np.sin(2 * np.pi * 0.31 * t + rng.uniform(0, 2 * np.pi))
    f0_t = f0 * (1.0 + vib_depth * np.sin(2 * np.pi * vib_rate * t + rng.uniform(0, 2 * np.pi)) + drift)
    phase = 2 * np.pi * np.cumsum(f0_t) / sr
    src = np.zeros(n)
    k_max = int(0.45 * sr / (f0 * 0.9))
    for k in range(1, k_max + 1):
        ok = k * f0_t < 0.45 * sr  # band-limited: drop harmonics above 0.45 sr
        src += np.where(ok, np.sin(k * phase + 0.3 * k), 0.0) / k
    src += noise * rng.standard_normal(n)
    y = src
    for fc, bw in formants:
        r = math.exp(-math.pi * bw / sr)
        theta = 2 * math.pi * fc / sr
        a = [1.0, -2 * r * math.cos(theta), r * r]
        b = [1.0 - r]
        y = lfilter(b, a, y)
    env = 0.65 + 0.35 * np.sin(2 * np.pi * syll_rate * t + rng.uniform(0, 2 * np.pi))
    fade = min(int(0.02 * sr), n // 4)
    if fade > 0:
        ramp = np.linspace(0.0, 1.0, fade)
        env[:fade] *= ramp
        env[n - fade:] *= ramp[::-1]
    y = y * env
    return y * (peak / max(1e-9, np.max(np.abs(y))))


def _fmt_chunk(tag, channels, sr, bits, block_align, ext=None):
    if tag == 1:
        body = struct.pack("<HHIIHH", 1, channels, sr, sr * block_align, block_align, bits)
    elif tag == 3:
        body = struct.pack("<HHIIHHH", 3, channels, sr, sr * block_align, block_align, bits, 0)
    else:  # WAVE_FORMAT_EXTENSIBLE with KSDATAFORMAT_SUBTYPE_PCM or _IEEE_FLOAT
        sub_tag, mask = ext
        guid = struct.pack("<IHH", sub_tag, 0x0000, 0x0010) + bytes([0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71])
        body = struct.pack("<HHIIHHHHI", 0xFFFE, channels, sr, sr * block_align, block_align, bits, 22, bits, mask) + guid
    return b"fmt " + struct.pack("<I", len(body)) + body


def encode_samples(x, fmt, bits):
    """x: float64 [n, channels] in [-1, 1). Returns (bytes, the float32 values soundfile would read back)."""
    if fmt == "float":
        dt = np.float32 if bits == 32 else np.float64
        q = x.astype(dt)
        return q.astype("<f4" if bits == 32 else "<f8").tobytes(), q.astype(np.float32)
    scale = 2 ** (bits - 1)
    q = np.clip(np.round(x * scale), -scale, scale - 1).astype(np.int64)
    if bits == 8:
        u = (q + 128).astype(np.uint8)
        return u.tobytes(), ((u.astype(np.float32) - 128.0) / 128.0)
    if bits == 16:
        raw = q.astype("<i2").tobytes()
    elif bits == 24:
        le = q.astype("<i4").reshape(-1).view(np.uint8).reshape(-1, 4)[:, :3]
        raw = le.tobytes()
    elif bits == 32:
        raw = q.astype("<i4").tobytes()
    else:
        raise ValueError(bits)
    return raw, (q.astype(np.float64) / scale).astype(np.float32)


def write_wav(path, x, sr, fmt, bits, list_chunk=False):
    """Writes x (float64 [n, ch]) as a WAV whose header is exactly fmt/bits; returns the float32 samples
    [n, ch] a soundfile-style reader gives (int / 2^(bits-1), 8-bit (u-128)/128, float as stored)."""
    n, ch = x.shape
    block_align = ch * bits // 8
    if fmt == "pcm":
        fmt_chunk = _fmt_chunk(1, ch, sr, bits, block_align)
        raw, back = encode_samples(x, "pcm", bits)
    elif fmt == "float":
        fmt_chunk = _fmt_chunk(3, ch, sr, bits, block_align)
        raw, back = encode_samples(x, "float", bits)
    elif fmt == "extensible":
        mask = {1: 0x4, 2: 0x3}.get(ch, 0)
        fmt_chunk = _fmt_chunk(0xFFFE, ch, sr, bits, block_align, ext=(1, mask))
        raw, back = encode_samples(x, "pcm", bits)
    else:
        raise ValueError(fmt)
    chunks = [fmt_chunk]
    if fmt == "float":  # non-PCM formats carry a fact chunk (sample frames per channel)
        chunks.append(b"fact" + struct.pack("<II", 4, n))
    if list_chunk:  # an ordinary metadata chunk a reader must skip
        info = b"INFOISFT" + struct.pack("<I", 14) + b"Timbre fixture"
        chunks.append(b"LIST" + struct.pack("<I", len(info)) + info)
    data = raw + (b"\x00" if len(raw) % 2 else b"")
    chunks.append(b"data" + struct.pack("<I", len(raw)) + data)
    body = b"WAVE" + b"".join(chunks)
    with open(path, "wb") as f:
        f.write(b"RIFF" + struct.pack("<I", len(body)) + body)
    return back.reshape(n, ch)


def read_wav(path):
    """Independent reader used as a self-check: returns (sr, channels, bits, format, float32 [n, ch])."""
    with open(path, "rb") as f:
        b = f.read()
    assert b[:4] == b"RIFF" and b[8:12] == b"WAVE"
    pos, fmt, data = 12, None, None
    while pos + 8 <= len(b):
        cid, size = b[pos:pos + 4], struct.unpack("<I", b[pos + 4:pos + 8])[0]
        body = b[pos + 8:pos + 8 + size]
        if cid == b"fmt ":
            fmt = body
        elif cid == b"data":
            data = body
        pos += 8 + size + (size & 1)
    tag, ch, sr, _, _, bits = struct.unpack("<HHIIHH", fmt[:16])
    kind = {1: "pcm", 3: "float", 0xFFFE: "extensible"}[tag]
    sub = struct.unpack("<H", fmt[24:26])[0] if tag == 0xFFFE else tag
    if sub == 3:
        a = np.frombuffer(data, "<f4" if bits == 32 else "<f8").astype(np.float32)
    elif bits == 8:
        a = (np.frombuffer(data, np.uint8).astype(np.float32) - 128.0) / 128.0
    elif bits == 16:
        a = (np.frombuffer(data, "<i2").astype(np.float64) / 32768.0).astype(np.float32)
    elif bits == 24:
        u = np.frombuffer(data, np.uint8).reshape(-1, 3).astype(np.int32)
        v = u[:, 0] | (u[:, 1] << 8) | (u[:, 2] << 16)
        v = np.where(v >= 1 << 23, v - (1 << 24), v)
        a = (v.astype(np.float64) / 8388608.0).astype(np.float32)
    elif bits == 32:
        a = (np.frombuffer(data, "<i4").astype(np.float64) / 2147483648.0).astype(np.float32)
    else:
        raise ValueError(bits)
    return sr, ch, bits, kind, a.reshape(-1, ch)


# The clip set: (file, sample rate, channels, bits, format, duration s, f0 Hz, formants [(Hz, bandwidth)], seed)
CLIPS = [
    ("c01_0.03s_22050_pcm16_mono.wav", 22050, 1, 16, "pcm", 0.03, 180.0, [(700, 90), (1200, 110), (2600, 160)], 101),
    ("c02_1s_22050_pcm16_mono.wav", 22050, 1, 16, "pcm", 1.0, 120.0, [(500, 80), (1500, 100), (2500, 150)], 102),
    ("c03_3s_22050_pcm24_mono.wav", 22050, 1, 24, "pcm", 3.0, 210.0, [(300, 60), (2300, 120), (3000, 170)], 103),
    ("c04_10s_22050_float32_mono.wav", 22050, 1, 32, "float", 10.0, 95.0, [(650, 80), (1100, 100), (2450, 140)], 104),
    ("c05_25s_22050_pcm16_mono.wav", 22050, 1, 16, "pcm", 25.0, 160.0, [(400, 70), (1900, 110), (2700, 150)], 105),
    ("c06_4s_44100_pcm16_stereo.wav", 44100, 2, 16, "pcm", 4.0, 240.0, [(850, 100), (1250, 120), (2900, 180)], 106),
    ("c07_5s_16000_pcm16_mono.wav", 16000, 1, 16, "pcm", 5.0, 135.0, [(550, 80), (900, 90), (2400, 150)], 107),
    ("c08_2s_22050_pcm8u_mono.wav", 22050, 1, 8, "pcm", 2.0, 190.0, [(350, 60), (2000, 120), (2800, 160)], 108),
    ("c09_2s_22050_ext16_stereo.wav", 22050, 2, 16, "extensible", 2.0, 110.0, [(750, 90), (1100, 100), (2500, 150)], 109),
    ("c10_3s_22050_float64_mono.wav", 22050, 1, 64, "float", 3.0, 260.0, [(450, 70), (1700, 110), (3100, 180)], 110),
    # Two takes of one synthetic voice (same f0 and formants, different seeds, so different phases/noise)
    ("voice_a_1.wav", 22050, 1, 16, "pcm", 2.5, 150.0, [(600, 80), (1300, 100), (2600, 150)], 201),
    ("voice_a_2.wav", 22050, 1, 16, "pcm", 2.0, 150.0, [(600, 80), (1300, 100), (2600, 150)], 202),
]
MEAN_FILES = ["voice_a_1.wav", "voice_a_2.wav"]


def clip_signal(sr, ch, dur, f0, formants, seed):
    n = int(round(dur * sr))
    mono = synth_voice(sr, n, f0, formants, seed, peak=0.7)
    if ch == 1:
        return mono.reshape(n, 1)
    # Channels differ slightly: the second one is 0.9x, 3 samples late, with its own faint noise.
    rng = np.random.default_rng(seed + 1000)
    other = 0.9 * np.concatenate([np.zeros(3), mono[:-3]]) + 0.002 * rng.standard_normal(n)
    return np.stack([mono, other], axis=1)


# --------------------------------------------------------------------------------------------------------
# 4. The independent implementation (librosa 0.9.1 load semantics, spectrogram, reference encoder)
# --------------------------------------------------------------------------------------------------------


def load_like_librosa(samples_f32, sr):
    """samples_f32: [n, ch] float32 as soundfile returns them. Mono = mean over channels in float32; then
    resampy kaiser_best to 22050 and fix_length to ceil(n * 22050 / sr), as librosa 0.9.1 load() does."""
    y = samples_f32.T  # librosa: [channels, n]
    y = np.mean(y, axis=0) if y.shape[0] > 1 else y[0]
    y = np.asarray(y, dtype=np.float32)
    if sr == SR:
        return y, False
    import resampy

    ratio = float(SR) / sr
    y_hat = resampy.resample(y, sr, SR, filter="kaiser_best", axis=-1)
    n_out = int(np.ceil(y.shape[-1] * ratio))
    if y_hat.shape[-1] > n_out:
        y_hat = y_hat[:n_out]
    elif y_hat.shape[-1] < n_out:
        y_hat = np.pad(y_hat, (0, n_out - y_hat.shape[-1]))
    return np.asarray(y_hat, dtype=np.float32), True


def hann_periodic(n=WIN):
    return 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(n) / n)  # float64


def spectrogram(y):
    """y: float32 [L], L >= 385. Returns float32 [513, T], T = floor(L / 256): reflect pad 384 per side
    (numpy reflect: the edge sample is not repeated), periodic Hann, DFT per frame (hop 256, no centering),
    sqrt(re^2 + im^2 + 1e-6). The DFT runs in float64 on the float32 samples; the result is rounded to
    float32 once."""
    y = np.asarray(y, dtype=np.float32).astype(np.float64)
    assert y.shape[0] > PAD, "need at least 385 samples"
    yp = np.pad(y, (PAD, PAD), mode="reflect")
    t = 1 + (yp.shape[0] - N_FFT) // HOP
    idx = np.arange(N_FFT)[None, :] + HOP * np.arange(t)[:, None]
    frames = yp[idx] * hann_periodic()[None, :]
    spec = np.fft.rfft(frames, n=N_FFT, axis=1)  # [T, 513]
    mag = np.sqrt(spec.real ** 2 + spec.imag ** 2 + 1e-6)
    return mag.T.astype(np.float32)


def weight_norm(g, v):
    """W = g * v / ||v||, norm per output channel over (in, kh, kw), no epsilon, in float32."""
    norm = torch.sqrt((v * v).reshape(v.shape[0], -1).sum(dim=1)).reshape(-1, 1, 1, 1)
    return v * (g / norm)


def gru_final_state(x, w_ih, w_hh, b_ih, b_hh):
    """x: [T, 1152] float32. Hand-written GRU (gate rows r, z, n), h0 = 0; returns the final h [128]."""
    h = torch.zeros(GRU_H, dtype=torch.float32)
    gi_all = x @ w_ih.t() + b_ih  # [T, 384]
    for step in range(x.shape[0]):
        gi = gi_all[step]
        gh = w_hh @ h + b_hh
        r = torch.sigmoid(gi[0:GRU_H] + gh[0:GRU_H])
        z = torch.sigmoid(gi[GRU_H:2 * GRU_H] + gh[GRU_H:2 * GRU_H])
        n = torch.tanh(gi[2 * GRU_H:] + r * gh[2 * GRU_H:])
        h = (1.0 - z) * n + z * h
    return h


class Encoder:
    """The ref_enc forward with functional ops on a dict of float32 tensors (keys without 'ref_enc.')."""

    def __init__(self, w):
        self.w = w
        self.conv_w = [weight_norm(w[f"convs.{i}.weight_g"], w[f"convs.{i}.weight_v"]) for i in range(6)]

    def __call__(self, spec, stats=None):
        w = self.w
        x = torch.from_numpy(np.ascontiguousarray(spec.T))  # [T, 513]
        x = F.layer_norm(x, (SPEC_CHANNELS,), w["layernorm.weight"], w["layernorm.bias"], eps=1e-5)
        x = x.reshape(1, 1, x.shape[0], SPEC_CHANNELS)  # NCHW, H = time, W = freq
        for i in range(6):
            x = F.relu(F.conv2d(x, self.conv_w[i], w[f"convs.{i}.bias"], stride=2, padding=1))
        tp = x.shape[2]
        assert x.shape[1] == 128 and x.shape[3] == 9, x.shape
        seq = x[0].permute(1, 0, 2).reshape(tp, GRU_IN)  # feature index = c * 9 + f
        h = gru_final_state(seq, w["gru.weight_ih_l0"], w["gru.weight_hh_l0"], w["gru.bias_ih_l0"], w["gru.bias_hh_l0"])
        if stats is not None:
            gi = seq @ w["gru.weight_ih_l0"].t() + w["gru.bias_ih_l0"]
            stats.append({"conv_out_rms": float(x.pow(2).mean().sqrt()), "gru_in_std": float(gi.std()),
                          "h_absmax": float(h.abs().max()), "h_rms": float(h.pow(2).mean().sqrt()), "t_prime": tp})
        return F.linear(h, w["proj.weight"], w["proj.bias"])  # [256]


def embed(enc, y22050, stats=None):
    with torch.no_grad():
        return enc(spectrogram(y22050), stats).numpy().astype(np.float32)


# --------------------------------------------------------------------------------------------------------
# 5. Self-checks against torch's own ops (the goldens stay this file's numbers)
# --------------------------------------------------------------------------------------------------------


def check_against_torch(ckpt_path, signals):
    """signals: list of float32 [L] at 22050. Asserts this implementation matches torch.stft and an
    nn.Module encoder (weight_norm convs, nn.GRU) loaded from the saved checkpoint with torch.load."""
    import torch.nn as nn

    class RefEnc(nn.Module):
        def __init__(self):
            super().__init__()
            self.convs = nn.ModuleList(
                [nn.utils.weight_norm(nn.Conv2d(ci, co, 3, 2, 1)) for ci, co in CONV_CHANNELS])
            self.gru = nn.GRU(GRU_IN, GRU_H, batch_first=True)
            self.proj = nn.Linear(GRU_H, GIN)
            self.layernorm = nn.LayerNorm(SPEC_CHANNELS)

        def forward(self, x):  # [1, T, 513]
            out = self.layernorm(x.view(1, 1, -1, SPEC_CHANNELS))
            for c in self.convs:
                out = F.relu(c(out))
            out = out.transpose(1, 2).contiguous().view(1, out.size(2), -1)
            _, h = self.gru(out)
            return self.proj(h.squeeze(0))

    ckpt = torch.load(ckpt_path, map_location="cpu")
    sd = ckpt["model"]
    assert all(t.dtype == torch.float32 for t in sd.values())
    ref = {k[len("ref_enc."):]: v for k, v in sd.items() if k.startswith("ref_enc.")}
    module = RefEnc().eval()
    module.load_state_dict(ref, strict=True)
    mine = Encoder(ref)
    window = torch.hann_window(WIN)
    worst_spec, worst_gru, worst_emb, worst_eager = 0.0, 0.0, 0.0, 0.0
    with torch.no_grad():
        for y in signals:
            yt = torch.from_numpy(y).unsqueeze(0)
            yp = F.pad(yt.unsqueeze(1), (PAD, PAD), mode="reflect").squeeze(1)
            st = torch.stft(yp, N_FFT, hop_length=HOP, win_length=WIN, window=window, center=False,
                            normalized=False, onesided=True, return_complex=True)
            tmag = torch.sqrt(st.real.pow(2) + st.imag.pow(2) + 1e-6)[0].numpy()
            sm = spectrogram(y)
            assert tmag.shape == sm.shape
            worst_spec = max(worst_spec, float(np.max(np.abs(tmag - sm) / (1.0 + np.abs(sm)))))
            seq = torch.randn(7, GRU_IN, generator=torch.Generator().manual_seed(1))
            _, h_ref = module.gru(seq.unsqueeze(0))
            h_mine = gru_final_state(seq, ref["gru.weight_ih_l0"], ref["gru.weight_hh_l0"],
                                     ref["gru.bias_ih_l0"], ref["gru.bias_hh_l0"])
            worst_gru = max(worst_gru, float((h_ref.reshape(-1) - h_mine).abs().max()))
            e_mine = mine(sm).numpy()
            e_ref = module(torch.from_numpy(sm.T).unsqueeze(0))[0].numpy()
            worst_emb = max(worst_emb, float(np.max(np.abs(e_ref - e_mine))))
            # the whole eager path (float32 torch.stft + nn.Module), as OpenVoice computes it
            e_eager = module(torch.from_numpy(tmag.T).unsqueeze(0))[0].numpy()
            worst_eager = max(worst_eager, float(np.max(np.abs(e_eager - e_mine))))
    print(f"self-check: spectrogram vs torch.stft max |diff|/(1+|x|) = {worst_spec:.3g}; "
          f"GRU vs nn.GRU max diff = {worst_gru:.3g}; encoder vs nn.Module max diff = {worst_emb:.3g}; "
          f"golden vs eager torch.stft + nn.Module max diff = {worst_eager:.3g}")
    assert worst_spec < 1e-5 and worst_gru < 1e-5 and worst_emb < 1e-5 and worst_eager < 1e-5


def resampler_sensitivity(enc, resampled):
    """Printed only: how far the embedding of a resampled clip moves when another good resampler replaces
    resampy kaiser_best, to size the looser tolerance for resampled clips. resampled: [(name, f32 [n,ch], sr)]."""
    import math as _m

    import resampy
    from scipy.signal import resample_poly

    for name, samples, sr in resampled:
        mono = np.mean(samples.T, axis=0).astype(np.float32) if samples.shape[1] > 1 else samples[:, 0]
        gold, _ = load_like_librosa(samples, sr)
        e_gold = embed(enc, gold)
        g = _m.gcd(SR, sr)
        alts = {
            "resampy kaiser_fast": resampy.resample(mono, sr, SR, filter="kaiser_fast"),
            "scipy resample_poly kaiser(5)": resample_poly(mono, SR // g, sr // g).astype(np.float32),
            "scipy resample_poly kaiser(12)": resample_poly(mono, SR // g, sr // g,
                                                            window=("kaiser", 12.0)).astype(np.float32),
        }
        for alt, y in alts.items():
            y = np.asarray(y, dtype=np.float32)
            y = y[: gold.shape[0]] if y.shape[0] >= gold.shape[0] else np.pad(y, (0, gold.shape[0] - y.shape[0]))
            e = embed(enc, y)
            print(f"  {name}: {alt:32s} signal max diff {np.max(np.abs(y - gold)):.2e}, "
                  f"embedding max diff {np.max(np.abs(e - e_gold)):.2e} (embedding max |x| {np.max(np.abs(e_gold)):.2f})")


# --------------------------------------------------------------------------------------------------------
# 6. Bad checkpoints
# --------------------------------------------------------------------------------------------------------


class _Inert:
    """Pickles as a call to os.system('true') (GLOBAL 'posix system' on Linux). Harmless if ever run, but a
    safe loader must refuse the global before calling anything."""

    def __reduce__(self):
        return (os.system, ("true",))


def shared_storage_state_dict(dtype, drop=None, reshape=None):
    """Full ref_enc shapes, all views on ONE storage (the size of the largest tensor), so each bad
    checkpoint costs ~1.8 MB (float32) instead of 3.25 MB. Values: a low-entropy ramp."""
    shapes = ref_enc_shapes()
    if reshape:
        shapes = [(k, reshape.get(k, s)) for k, s in shapes]
    biggest = max(int(np.prod(s)) for _, s in shapes)
    base = torch.from_numpy(((np.arange(biggest) % 17) * 0.01 - 0.08).astype(np.float64)).to(dtype)
    pairs = []
    for k, s in shapes:
        if drop and k == drop:
            continue
        pairs.append((k, base[: int(np.prod(s))].view(*s)))
    return state_dict(extra_tensors() + pairs)


def write_bad(out):
    bad = os.path.join(out, "bad")
    cfg = converter_config()

    def case(name, cfg_obj=cfg):
        d = os.path.join(bad, name)
        os.makedirs(d, exist_ok=True)
        write_config(os.path.join(d, "config.json"), cfg_obj)
        return os.path.join(d, "checkpoint.pth")

    small = state_dict(extra_tensors() + [("ref_enc.proj.bias", torch.zeros(GIN))])
    # legacy: every tensor is a view of one storage, so the storage order (by memory address) cannot vary
    one = torch.linspace(-1.0, 1.0, GIN)
    shared = state_dict([(k, one[: int(np.prod(s))].view(*s)) for k, s in EXTRA_KEYS] + [("ref_enc.proj.bias", one)])
    save_checkpoint(case("legacy"), shared, legacy=True)
    save_checkpoint(case("evil_global"), small, extra_top={"optimizer": _Inert()})
    save_checkpoint(case("float64"), shared_storage_state_dict(torch.float64))
    save_checkpoint(case("missing_key"), shared_storage_state_dict(torch.float32, drop="ref_enc.gru.bias_hh_l0"))
    save_checkpoint(case("wrong_shape"), shared_storage_state_dict(
        torch.float32, reshape={"ref_enc.proj.weight": (256, 64)}))
    # bad_config: the config lacks data.sampling_rate; the checkpoint is the good one (a symlink, to keep
    # the fixtures small), so only the config can be blamed.
    p = case("bad_config", converter_config(drop_sampling_rate=True))
    if os.path.lexists(p):
        os.remove(p)
    os.symlink(os.path.join("..", "..", "converter", "checkpoint.pth"), p)


# --------------------------------------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------------------------------------


def f32_list(a):
    return [float(np.float32(v)) for v in np.asarray(a, dtype=np.float32)]  # exact float32 values


def cosine(a, b):
    a, b = a.astype(np.float64), b.astype(np.float64)
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(here, "fixtures"))
    args = ap.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(1)

    out = args.out
    if os.path.isdir(out):
        shutil.rmtree(out)
    for sub in ("converter", "audio", "bad"):
        os.makedirs(os.path.join(out, sub))

    # converter
    conv = os.path.join(out, "converter")
    write_config(os.path.join(conv, "config.json"), converter_config())
    weights = make_ref_enc_weights()
    sd = state_dict(extra_tensors()[:2] + list(weights.items()) + extra_tensors()[2:])
    ckpt = os.path.join(conv, "checkpoint.pth")
    save_checkpoint(ckpt, sd)

    # encoder built from the tensors as saved (reload to prove the file round-trips)
    saved = torch.load(ckpt, map_location="cpu")["model"]
    for k, v in weights.items():
        assert torch.equal(saved[k], v), k
    enc = Encoder({k[len("ref_enc."):]: v for k, v in saved.items() if k.startswith("ref_enc.")})

    clips, signals, embs, resampled_inputs = [], [], {}, []
    for name, sr, ch, bits, fmt, dur, f0, formants, seed in CLIPS:
        x = clip_signal(sr, ch, dur, f0, formants, seed)
        path = os.path.join(out, "audio", name)
        back = write_wav(path, x, sr, fmt, bits, list_chunk=(name.startswith("c02")))
        # independent re-read of the bytes on disk, and scipy's view of the same file
        rsr, rch, rbits, rkind, samples = read_wav(path)
        assert (rsr, rch, rbits, rkind) == (sr, ch, bits, fmt), name
        assert np.array_equal(samples, back), name
        y, resampled = load_like_librosa(samples, sr)
        stats = []
        e = embed(enc, y, stats)
        assert np.all(np.isfinite(e)), name
        embs[name] = e
        signals.append(y)
        if resampled:
            resampled_inputs.append((name, samples, sr))
        clips.append({
            "file": "audio/" + name,
            "sample_rate_in": sr,
            "channels": ch,
            "bits": bits,
            "format": fmt,
            "duration_s": samples.shape[0] / sr,
            "num_samples_22050": int(y.shape[0]),
            "resampled": resampled,
            "embedding": f32_list(e),
        })
        print(f"{name:36s} sr={sr:5d} ch={ch} bits={bits:2d} {fmt:10s} n22050={y.shape[0]:7d} "
              f"T'={stats[0]['t_prime']:3d} conv_rms={stats[0]['conv_out_rms']:.3f} "
              f"gru_in_std={stats[0]['gru_in_std']:.3f} |h|max={stats[0]['h_absmax']:.3f} "
              f"|e|={np.linalg.norm(e):.3f}")

    mean = np.mean(np.stack([embs[f] for f in MEAN_FILES]), axis=0).astype(np.float32)
    goldens = {"clips": clips, "mean": {"files": ["audio/" + f for f in MEAN_FILES], "embedding": f32_list(mean)}}
    with open(os.path.join(out, "goldens.json"), "w", encoding="utf-8") as f:
        json.dump(goldens, f, indent=1)
        f.write("\n")

    write_bad(out)
    check_against_torch(ckpt, signals[:4] + signals[5:7])
    print("resampler sensitivity (not written anywhere; for choosing the resampled clips' tolerance):")
    resampler_sensitivity(enc, resampled_inputs)

    # sanity: embeddings differ, are not saturated, the same voice is closer than different voices
    names = [c[0] for c in CLIPS]
    cos = np.array([[cosine(embs[a], embs[b]) for b in names] for a in names])
    off = cos[~np.eye(len(names), dtype=bool)]
    print(f"cosine between different clips: min {off.min():.3f} median {np.median(off):.3f} max {off.max():.3f}; "
          f"voice_a_1 vs voice_a_2: {cosine(embs[MEAN_FILES[0]], embs[MEAN_FILES[1]]):.3f}")
    assert off.max() < 0.999, "embeddings nearly identical: weights degenerate"

    total = 0
    for root, _, files in os.walk(out):
        for fn in files:
            p = os.path.join(root, fn)
            if not os.path.islink(p):
                total += os.path.getsize(p)
    audio = sum(os.path.getsize(os.path.join(out, "audio", f)) for f in os.listdir(os.path.join(out, "audio")))
    digest = hashlib.sha256(open(ckpt, "rb").read()).hexdigest()
    print(f"fixtures: {total / 1e6:.2f} MB total, audio {audio / 1e6:.2f} MB; checkpoint sha256 {digest}")


if __name__ == "__main__":
    sys.exit(main())
