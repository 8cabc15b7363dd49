#!/usr/bin/env python3
"""OpenVoice's own extraction, as a whole process, for bench/process.sh: loads a converter with OpenVoice's
ToneColorConverter (its config.json and checkpoint.pth; here the repository's random-weight fixture) and calls
ToneColorConverter.extract_se on each clip, one call per clip (as `./timbre extract` embeds each file), printing one
JSON line per clip. One PyTorch thread, CPU.

    python bench/openvoice_extract_se.py --openvoice /tmp/openvoice --converter infra/model/fixtures/converter a.wav ...

--openvoice: a checkout of github.com/myshell-ai/OpenVoice (never committed here). Only the module extract_se never
reaches is stubbed: openvoice.text (text_to_sequence, used by TTS only; it imports language front ends). The
watermark model is off (enable_watermark=False: it is used by convert only).
"""
import argparse
import json
import os
import sys
import time
import types

T0 = time.time()
import torch  # noqa: E402

torch.set_num_threads(1)
torch.set_num_interop_threads(1)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--openvoice", required=True)
    p.add_argument("--converter", required=True)
    p.add_argument("clips", nargs="+")
    a = p.parse_args()
    sys.path.insert(0, a.openvoice)
    text = types.ModuleType("openvoice.text")
    text.text_to_sequence = lambda *args, **kwargs: (_ for _ in ()).throw(RuntimeError("TTS is not benchmarked"))
    sys.modules["openvoice.text"] = text
    from openvoice.api import ToneColorConverter

    converter = ToneColorConverter(os.path.join(a.converter, "config.json"), device="cpu", enable_watermark=False)
    converter.load_ckpt(os.path.join(a.converter, "checkpoint.pth"))
    ready = time.time()
    for clip in a.clips:
        se = converter.extract_se([clip])
        print(json.dumps({"file": clip, "embedding": [round(float(v), 6) for v in se.flatten().tolist()]}))
    print(json.dumps({"import_s": round(ready - T0, 3), "extract_s": round(time.time() - ready, 3)}),
          file=sys.stderr)


if __name__ == "__main__":
    main()
