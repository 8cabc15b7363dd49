#!/usr/bin/env python3
"""Reference for SileroVadReferenceTest: silero-vad's own code and TorchScript model (v6.2, master) on the
committed 16 kHz int16 clips, through whisper-timestamped's get_vad_segments treatment for OpenVoice.

  python3 infra/model/vad_reference.py <silero-vad checkout>/src   # torch from /tmp/wheels
Writes infra/model/fixtures/vad/<clip>.json: per-window probabilities and the segments in samples.
"""
import array, glob, json, os, sys, types, wave
import torch

# utils_vad imports these at the top; get_speech_timestamps uses neither
for name in ("torchaudio", "packaging"):
    try:
        __import__(name)
    except ImportError:
        sys.modules[name] = types.ModuleType(name)
        sys.modules[name].version = types.ModuleType("version")

sys.path.insert(0, sys.argv[1])
from silero_vad.utils_vad import get_speech_timestamps  # noqa: E402

torch.set_num_threads(1)
here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "vad")
model = torch.jit.load(os.path.join(sys.argv[1], "silero_vad", "data", "silero_vad.jit"))
model.eval()

for path in sorted(glob.glob(os.path.join(here, "*.wav"))):
    with wave.open(path) as w:
        assert w.getframerate() == 16000 and w.getnchannels() == 1 and w.getsampwidth() == 2
        pcm = array.array("h", w.readframes(w.getnframes()))
    audio = torch.tensor(pcm, dtype=torch.int16).to(torch.float32) / 32768.0  # whisper.load_audio
    audio = audio / max(0.1, audio.abs().max())  # whisper-timestamped get_vad_segments
    probs = []
    with torch.no_grad():
        segments = get_speech_timestamps(audio, model, sampling_rate=16000, min_speech_duration_ms=100,
                                         min_silence_duration_ms=1000, return_seconds=False,
                                         progress_tracking_callback=lambda p: None)
        # the same windows again, to record the probabilities (get_speech_timestamps does not return them)
        model.reset_states()
        for s in range(0, len(audio), 512):
            chunk = audio[s:s + 512]
            if len(chunk) < 512:
                chunk = torch.nn.functional.pad(chunk, (0, 512 - len(chunk)))
            probs.append(model(chunk, 16000).item())
    dil, merged = 8000, []
    for seg in segments:  # get_vad_segments' dilatation and merge
        new = {"start": max(0, seg["start"] - dil), "end": min(len(audio), seg["end"] + dil)}
        if merged and merged[-1]["end"] >= new["start"]:
            merged[-1]["end"] = new["end"]
        else:
            merged.append(new)
    out = {"clip": os.path.basename(path), "samples": len(pcm), "probabilities": probs,
           "speech_timestamps": [[s["start"], s["end"]] for s in segments],
           "segments": [[s["start"], s["end"]] for s in merged]}
    with open(path[:-4] + ".json", "w") as f:
        json.dump(out, f)
    print(path, len(probs), out["speech_timestamps"], out["segments"])
