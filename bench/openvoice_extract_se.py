#!/usr/bin/env python3
"""OpenVoice's own extraction, as a whole process, for bench/process.sh: loads a converter with OpenVoice's
ToneColorConverter (its config.json and the checkpoint's ref_enc.* tensors; here the repository's random-weight
fixture) and calls
ToneColorConverter.extract_se on each clip, one call per clip (as `./timbre extract` embeds each file), printing one
JSON line per clip. One PyTorch thread, CPU.

    python bench/openvoice_extract_se.py --openvoice /tmp/openvoice --converter infra/model/fixtures/converter a.wav ...

--openvoice: a checkout of github.com/myshell-ai/OpenVoice (never committed here). Only modules extract_se never
reaches are stubbed: openvoice.text (text_to_sequence, used by TTS only; it imports language front ends) and
wavmark (the watermark model, used by convert only; ToneColorConverter loads it in its constructor, and its
enable_watermark=False cannot be passed: the base class rejects the keyword).
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
    wavmark = types.ModuleType("wavmark")

    class _NoWatermark:
        def to(self, device):
            return self

    wavmark.load_model = lambda *args, **kwargs: _NoWatermark()
    sys.modules["wavmark"] = wavmark
    from openvoice.api import ToneColorConverter

    converter = ToneColorConverter(os.path.join(a.converter, "config.json"), device="cpu")
    # load_ckpt, restricted to the ref_enc.* tensors (all extract_se uses; Timbre reads only these 26 too): the
    # fixture's other tensors are shrunk placeholders that the full model's shapes would reject
    state = torch.load(os.path.join(a.converter, "checkpoint.pth"), map_location="cpu")["model"]
    converter.model.load_state_dict({k: v for k, v in state.items() if k.startswith("ref_enc.")}, strict=False)
    ready = time.time()
    for clip in a.clips:
        se = converter.extract_se([clip])
        print(json.dumps({"file": clip, "embedding": [round(float(v), 6) for v in se.flatten().tolist()]}))
    print(json.dumps({"import_s": round(ready - T0, 3), "extract_s": round(time.time() - ready, 3)}),
          file=sys.stderr)


if __name__ == "__main__":
    main()
