#!/usr/bin/python3
"""Reference outputs for dev.timbre.audio.Resampler, computed by resampy itself.

Run with Debian's Python (it has numpy, scipy and resampy 0.4.x):

    /usr/bin/python3 infra/model/resample_reference.py [OUT_DIR]

Writes, for each source rate, a test signal and its resampling to 22050 Hz as little-endian float32 files:
  sig_<rate>.f32                       the input (float32, what librosa.load hands to resample)
  sig_<rate>.kaiser_best.f32           resampy.resample(..., filter='kaiser_best') (resampy >= 0.3 filter)
  sig_<rate>.kaiser_best_0_2.f32       the resampy 0.2.x kaiser_best (64 zeros, precision 9, beta 14.7697,
                                       rolloff 0.94759), built with resampy.filters.sinc_window
Each output is then fixed to ceil(n * 22050 / rate) samples with zero padding, as librosa 0.9.1's resample does.
"""
import math
import os
import sys

import numpy as np
import resampy
import scipy.signal

TARGET = 22050
RATES = (44100, 16000, 48000, 8000)


def legacy_kaiser_best():
    beta = 14.769656459379492
    return resampy.filters.sinc_window(
        num_zeros=64, precision=9,
        window=lambda m: scipy.signal.get_window(("kaiser", beta), m, fftbins=False),
        rolloff=0.9475937167399596)


def test_signal(rate, rng):
    # 0.25 s plus an odd tail: a chirp sweeping past the target Nyquist, two tones, a click and some noise,
    # so that both the pass band and the anti-aliasing stop band matter
    n = rate // 4 + 7
    t = np.arange(n) / rate
    sweep = 0.4 * np.sin(2 * np.pi * (50 * t + 0.5 * (0.45 * rate - 50) / t[-1] * t * t))
    tones = 0.2 * np.sin(2 * np.pi * 440 * t) + 0.1 * np.sin(2 * np.pi * 3150.5 * t + 0.3)
    click = np.zeros(n)
    click[n // 3] = 0.8
    noise = 0.05 * rng.standard_normal(n)
    return (sweep + tones + click + noise).astype(np.float32)


def fix_length(y, size):
    if len(y) >= size:
        return y[:size]
    return np.pad(y, (0, size - len(y)))


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else "core/src/test/resources/audio/resample"
    os.makedirs(out_dir, exist_ok=True)
    rng = np.random.default_rng(20261129)
    print(f"resampy {resampy.__version__}, numpy {np.__version__}")
    for rate in RATES:
        x = test_signal(rate, rng)
        size = int(math.ceil(len(x) * (float(TARGET) / rate)))
        best = fix_length(resampy.resample(x, rate, TARGET, filter="kaiser_best"), size)
        legacy = fix_length(resampy.resample(x, rate, TARGET, filter=legacy_kaiser_best), size)
        assert best.dtype == np.float32 and legacy.dtype == np.float32
        x.astype("<f4").tofile(os.path.join(out_dir, f"sig_{rate}.f32"))
        best.astype("<f4").tofile(os.path.join(out_dir, f"sig_{rate}.kaiser_best.f32"))
        legacy.astype("<f4").tofile(os.path.join(out_dir, f"sig_{rate}.kaiser_best_0_2.f32"))
        print(f"{rate} -> {TARGET}: {len(x)} -> {size} samples")


if __name__ == "__main__":
    main()
