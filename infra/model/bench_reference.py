#!/usr/bin/python3
"""PyTorch eager reference timing for the extraction benchmark (bench/extract.sh): the compute of OpenVoice's extract_se
(spectrogram + ref_enc), one thread, no file I/O.

    /usr/bin/python3 infra/model/bench_reference.py [--converter infra/model/fixtures/converter] [--reps 30]
        [--warmup 5] [--embed-out FILE] [--write-wavs DIR]

Prints one JSON object on stdout:
    {"torch_version": ..., "threads": 1, "results": [{"seconds": 3, "median_ms": ..., "min_ms": ...,
      "p90_ms": ..., "n": ..., "spectrogram_median_ms": ..., "encoder_median_ms": ...}, ...]}

The model is built the way OpenVoice runs it in eager mode: F.pad(reflect) + torch.stft + sqrt(re²+im²+1e-6),
then nn.LayerNorm, six nn.utils.weight_norm(Conv2d) (weight recomputed from g and v on every call, as OpenVoice
does), nn.GRU and nn.Linear, under torch.no_grad(), weights loaded with torch.load from the converter directory.

The clips (so a Java benchmark can run on exactly the same samples):
  for seconds S in (3, 10, 30): n = S * 22050 samples at 22050 Hz, mono, from make_fixtures.synth_voice with
  f0 = 140 Hz, formants [(600, 80), (1300, 100), (2600, 150)] (Hz, bandwidth Hz), seed = 1000 + S, peak 0.7
  (defaults otherwise: vibrato 5.5 Hz depth 0.03, noise 0.01, syllable rate 3.5 Hz), rounded to float32.
  --write-wavs DIR writes them as bench_3s.wav, bench_10s.wav, bench_30s.wav (IEEE float32 WAV, 22050 Hz,
  mono: exact samples); --embed-out FILE writes their embeddings from this eager model as JSON:
  {"torch_version": ..., "clips": [{"seconds": S, "file": "bench_Ss.wav", "num_samples": n,
  "embedding": [256 floats]}, ...]}.
"""

import argparse
import json
import os
import sys
import time

import torch

# Must run before any parallel work starts: one intra-op and one inter-op thread, like a Timbre converter.
torch.set_num_threads(1)
torch.set_num_interop_threads(1)

import numpy as np  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_fixtures as mf  # noqa: E402

SECONDS = (3, 10, 30)
F0 = 140.0
FORMANTS = [(600, 80), (1300, 100), (2600, 150)]


def bench_signal(seconds, sr=mf.SR):
    n = seconds * sr
    return mf.synth_voice(sr, n, F0, FORMANTS, 1000 + seconds, peak=0.7).astype(np.float32)


class RefEnc(nn.Module):
    """ReferenceEncoder(spec_channels=513, gin_channels=256) as OpenVoice builds it (docs/architecture.md §10)."""

    def __init__(self, spec_channels, gin_channels):
        super().__init__()
        self.spec_channels = spec_channels
        self.convs = nn.ModuleList(
            [nn.utils.weight_norm(nn.Conv2d(ci, co, 3, 2, 1)) for ci, co in mf.CONV_CHANNELS])
        out_f = spec_channels
        for _ in range(6):
            out_f = (out_f - 3 + 2) // 2 + 1
        self.gru = nn.GRU(128 * out_f, 128, batch_first=True)
        self.proj = nn.Linear(128, gin_channels)
        self.layernorm = nn.LayerNorm(spec_channels)

    def forward(self, x):  # [N, T, spec_channels]
        n = x.size(0)
        out = self.layernorm(x.view(n, 1, -1, self.spec_channels))
        for conv in self.convs:
            out = F.relu(conv(out))
        t = out.size(2)
        out = out.transpose(1, 2).contiguous().view(n, t, -1)
        self.gru.flatten_parameters()
        _, h = self.gru(out)
        return self.proj(h.squeeze(0))


class Spectrogram:
    def __init__(self, n_fft, hop, win):
        self.n_fft, self.hop, self.win = n_fft, hop, win
        self.window = torch.hann_window(win)

    def __call__(self, y):  # [1, L] -> [1, n_fft/2+1, T]
        pad = (self.n_fft - self.hop) // 2
        y = F.pad(y.unsqueeze(1), (pad, pad), mode="reflect").squeeze(1)
        spec = torch.stft(y, self.n_fft, hop_length=self.hop, win_length=self.win, window=self.window,
                          center=False, normalized=False, onesided=True, return_complex=True)
        return torch.sqrt(spec.real.pow(2) + spec.imag.pow(2) + 1e-6)


def load(converter_dir):
    with open(os.path.join(converter_dir, "config.json"), encoding="utf-8") as f:
        cfg = json.load(f)
    d = cfg["data"]
    sd = torch.load(os.path.join(converter_dir, "checkpoint.pth"), map_location="cpu")["model"]
    ref = {k[len("ref_enc."):]: v for k, v in sd.items() if k.startswith("ref_enc.")}
    enc = RefEnc(d["filter_length"] // 2 + 1, cfg["model"]["gin_channels"]).eval()
    enc.load_state_dict(ref, strict=True)
    return d["sampling_rate"], Spectrogram(d["filter_length"], d["hop_length"], d["win_length"]), enc


def pct(xs, q):
    return float(np.percentile(np.asarray(xs), q))


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description="PyTorch eager reference timing of extract_se's compute")
    ap.add_argument("--converter", default=os.path.join(here, "fixtures", "converter"))
    ap.add_argument("--reps", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--embed-out")
    ap.add_argument("--write-wavs")
    args = ap.parse_args()

    sr, spectrogram, enc = load(args.converter)
    if sr != mf.SR:
        raise SystemExit(f"converter sampling_rate {sr}, the benchmark clips are {mf.SR} Hz")
    results, embeds = [], []
    with torch.no_grad():
        for s in SECONDS:
            y_np = bench_signal(s)
            if args.write_wavs:
                os.makedirs(args.write_wavs, exist_ok=True)
                back = mf.write_wav(os.path.join(args.write_wavs, f"bench_{s}s.wav"),
                                    y_np.astype(np.float64).reshape(-1, 1), mf.SR, "float", 32)
                assert np.array_equal(back[:, 0], y_np)
            y = torch.from_numpy(y_np).unsqueeze(0)
            for _ in range(args.warmup):
                enc(spectrogram(y).transpose(1, 2))
            tot, sp, en = [], [], []
            for _ in range(args.reps):
                t0 = time.perf_counter()
                spec = spectrogram(y)
                t1 = time.perf_counter()
                e = enc(spec.transpose(1, 2))
                t2 = time.perf_counter()
                tot.append((t2 - t0) * 1e3)
                sp.append((t1 - t0) * 1e3)
                en.append((t2 - t1) * 1e3)
            results.append({"seconds": s, "median_ms": round(pct(tot, 50), 3), "min_ms": round(min(tot), 3),
                            "p90_ms": round(pct(tot, 90), 3), "n": args.reps,
                            "spectrogram_median_ms": round(pct(sp, 50), 3),
                            "encoder_median_ms": round(pct(en, 50), 3)})
            embeds.append({"seconds": s, "file": f"bench_{s}s.wav", "num_samples": int(y_np.shape[0]),
                           "embedding": mf.f32_list(e[0].numpy())})
    if args.embed_out:
        with open(args.embed_out, "w", encoding="utf-8") as f:
            json.dump({"torch_version": torch.__version__, "clips": embeds}, f)
            f.write("\n")
    print(json.dumps({"torch_version": torch.__version__, "python": sys.executable, "threads": torch.get_num_threads(),
                      "results": results}))


if __name__ == "__main__":
    main()
