#!/usr/bin/env bash
# Whole process, one core: `./timbre extract` on 30 clips of 12.6 s (with the JDK 25 AOT cache, and without:
# TIMBRE_AOT=0) vs OpenVoice's own ToneColorConverter.extract_se (bench/openvoice_extract_se.py) on the same clips,
# both pinned to CPU 0 (taskset -c 0), from process start to exit, rounds interleaved. Same converter for both:
# the repository's random-weight fixture (infra/model/fixtures/converter). Writes the process section of
# docs/benchmarks.md.
#
#   OPENVOICE=/tmp/openvoice PYTHON=/tmp/ovenv/bin/python ROUNDS=3 bench/process.sh
#   (OPENVOICE: a checkout of github.com/myshell-ai/OpenVoice, never committed; PYTHON: with torch, librosa, numpy)
set -euo pipefail
cd "$(dirname "$0")/.."
source infra/java/select-jdk.sh

ROUNDS="${ROUNDS:-3}"
OPENVOICE="${OPENVOICE:-/tmp/openvoice}"
PYTHON="${PYTHON:-python3}"
CONVERTER=infra/model/fixtures/converter
CLIPS_DIR="${CLIPS_DIR:-cli/target/process-clips}"
[[ -f "$OPENVOICE/openvoice/api.py" ]] || { echo "process.sh: no OpenVoice checkout at $OPENVOICE" >&2; exit 1; }
"$PYTHON" -c 'import torch, librosa' || { echo "process.sh: $PYTHON lacks torch or librosa" >&2; exit 1; }

# 30 synthetic voiced clips, 12.6 s each at 22050 Hz, 16-bit PCM: harmonics of a gliding f0 (100-220 Hz, one per
# clip) with syllable-rate amplitude and a little noise; deterministic
mkdir -p "$CLIPS_DIR"
"$PYTHON" - "$CLIPS_DIR" <<'PY'
import math, random, struct, sys, wave
out = sys.argv[1]
sr, n = 22050, int(12.6 * 22050)
for k in range(30):
    rnd = random.Random(k)
    f0 = 100 + 4 * k
    frames = bytearray()
    phase = 0.0
    for i in range(n):
        t = i / sr
        f = f0 * (1 + 0.03 * math.sin(2 * math.pi * 5.5 * t))
        phase += 2 * math.pi * f / sr
        env = 0.5 + 0.5 * math.sin(2 * math.pi * 3.5 * t) ** 2
        v = sum(math.sin(h * phase) / h for h in range(1, 9)) * env * 0.25 + rnd.gauss(0, 0.01)
        frames += struct.pack('<h', max(-32767, min(32767, int(v * 32767))))
    with wave.open(f"{out}/clip{k:02d}.wav", "wb") as w:
        w.setnchannels(1); w.setsampwidth(2); w.setframerate(sr); w.writeframes(bytes(frames))
PY
CLIPS=("$CLIPS_DIR"/clip*.wav)

./timbre aot >/dev/null 2>&1 || true # builds if needed, then (re)trains the cache for this build

now() { date +%s.%N; }
declare -A RUNS
run() { # name command...
  local s e; s=$(now)
  taskset -c 0 "${@:2}" >/dev/null 2>>"$CLIPS_DIR/stderr.log"
  e=$(now); RUNS[$1]+="$(printf '%.1f' "$(echo "$e - $s" | bc)") "
  echo "  $1: $(echo "$e - $s" | bc) s" >&2
}
LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq 1 "$ROUNDS"); do
  echo "round $r" >&2
  run aot ./timbre extract --mode extract-se --converter "$CONVERTER" "${CLIPS[@]}"
  run noaot env TIMBRE_AOT=0 ./timbre extract --mode extract-se --converter "$CONVERTER" "${CLIPS[@]}"
  run openvoice "$PYTHON" bench/openvoice_extract_se.py --openvoice "$OPENVOICE" --converter "$CONVERTER" "${CLIPS[@]}"
  # the same glibc malloc settings as ./timbre (its launcher exports them): what they are worth to PyTorch too
  run openvoice_malloc env MALLOC_MMAP_THRESHOLD_=67108864 MALLOC_TRIM_THRESHOLD_=268435456 MALLOC_TOP_PAD_=67108864 \
    "$PYTHON" bench/openvoice_extract_se.py --openvoice "$OPENVOICE" --converter "$CONVERTER" "${CLIPS[@]}"
done
median() { tr ' ' '\n' <<<"$1" | grep . | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
min() { tr ' ' '\n' <<<"$1" | grep . | sort -g | head -1; }
AOT_M=$(median "${RUNS[aot]}"); NOAOT_M=$(median "${RUNS[noaot]}"); OV_M=$(median "${RUNS[openvoice]}")
OVM_M=$(median "${RUNS[openvoice_malloc]}")
RATIO_OVM=$(printf '%.2f' "$(echo "scale=4; $OVM_M / $OV_M" | bc)")
RATIO_TUNED=$(printf '%.2f' "$(echo "scale=4; $AOT_M / $OVM_M" | bc)")
RATIO=$(printf '%.2f' "$(echo "scale=4; $AOT_M / $OV_M" | bc)"); RATIO_NO=$(printf '%.2f' "$(echo "scale=4; $NOAOT_M / $OV_M" | bc)")
MET=$(echo "$RATIO <= 0.67" | bc)
TORCH=$("$PYTHON" -c 'import torch; print(torch.__version__)')
JAVA_V=$("$JAVA_HOME/bin/java" -version 2>&1 | head -1)
SECTION=$(cat <<MD
<!-- process:begin -->
## Whole process, one core: \`./timbre extract\` vs OpenVoice's extract_se

30 clips of 12.6 s (22050 Hz, 16-bit, synthetic voice), one process each way, from process start to exit, pinned to one core (\`taskset -c 0\`), rounds interleaved; the same random-weight converter (\`infra/model/fixtures/converter\`) for both. OpenVoice: its own \`ToneColorConverter\` (config, \`load_ckpt\`, \`extract_se\` once per clip; librosa load + resample, spectrogram, \`ref_enc\`) in \`bench/openvoice_extract_se.py\`, torch $TORCH, 1 thread. Timbre: \`./timbre extract --mode extract-se\` (one JSON line per clip; extract-se is the whole-clip path OpenVoice's \`extract_se\` is, get-se the default adds voice activity detection), with the JDK 25 AOT cache (\`cli/target/timbre.aot\`) and without (\`TIMBRE_AOT=0\`). Seconds, median (min) of $ROUNDS.

| process | wall time s | vs OpenVoice |
|---|---:|---:|
| \`./timbre extract\`, AOT cache | $AOT_M ($(min "${RUNS[aot]}")) | ${RATIO}× |
| \`./timbre extract\`, no AOT cache | $NOAOT_M ($(min "${RUNS[noaot]}")) | ${RATIO_NO}× |
| OpenVoice \`extract_se\` (Python) | $OV_M ($(min "${RUNS[openvoice]}")) | 1.00× |
| OpenVoice \`extract_se\`, with the launcher's malloc settings | $OVM_M ($(min "${RUNS[openvoice_malloc]}")) | ${RATIO_OVM}× |

The launcher exports \`MALLOC_MMAP_THRESHOLD_=67108864 MALLOC_TRIM_THRESHOLD_=268435456 MALLOC_TOP_PAD_=67108864\` (so do the Lambda and ECS images): glibc then keeps libtorch's per-call buffers in the heap instead of mapping and unmapping them on every clip, which halved the system time of this run of clips in development (without them the AOT row was 7.5 s, 0.78×). The last row gives Python the same settings, to show what part of the gap is that and not Java: against it, \`./timbre extract\` with the AOT cache takes ${RATIO_TUNED}× the wall time.

<!-- goal | ./timbre extract, 30 × 12.6 s clips, one core, whole process, vs OpenVoice extract_se | ${RATIO}× OpenVoice's wall time (${AOT_M} s vs ${OV_M} s) | ≤ 0.67× | $([[ $MET == 1 ]] && echo met || echo "not met") |  -->

- Machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), nproc $(nproc), shared with other jobs; load average $LOAD_BEFORE before, $(cut -d' ' -f1-3 /proc/loadavg) after; $JAVA_V.
- Command: \`OPENVOICE=... PYTHON=... bench/process.sh (ROUNDS=$ROUNDS)\`
<!-- process:end -->
MD
)
python3 - docs/benchmarks.md "$SECTION" <<'PY'
import re, sys
path, section = sys.argv[1], sys.argv[2]
s = open(path).read()
if "<!-- process:begin -->" in s:
    s = re.sub(r"<!-- process:begin -->.*?<!-- process:end -->", lambda m: section, s, flags=re.S)
else:
    s = s.rstrip("\n") + "\n\n" + section + "\n"
open(path, "w").write(s)
PY
echo "$SECTION"
