#!/usr/bin/env bash
# Extraction benchmark: Java (DJL/libtorch 2.7.1) vs PyTorch eager (any torch: PYTHON names the interpreter), 1 thread each,
# 3 s / 10 s / 30 s clips, same clips and converter, same run; plus peak RSS for a 600 s input.
# Writes its section of docs/benchmarks.md (between the extract markers) and prints a summary.
#
#   bench/extract.sh          # ROUNDS=3 REPS=30 WARMUP=5 LONG_SECONDS=600 TIMBRE_BUILD_DIR=target-bench by default
#   ROUNDS=5 TIMBRE_BUILD_DIR=target-x bench/extract.sh
#   PYTHON=/path/to/venv/bin/python bench/extract.sh   # a Python with torch and numpy (default: Debian's python3-torch)
# Rounds alternate the PyTorch reference (infra/model/bench_reference.py, run by the Java benchmark as a
# subprocess) and Java, so load from other jobs falls on both alike.
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR="${TIMBRE_BUILD_DIR:-target-bench}"
ROUNDS="${ROUNDS:-3}"
REPS="${REPS:-30}"
WARMUP="${WARMUP:-5}"
LONG_SECONDS="${LONG_SECONDS:-600}"
CONVERTER=infra/model/fixtures/converter
PYTHON="${PYTHON:-/usr/bin/python3}" # default: Debian's Python, which imports Debian's python3-torch

if ! "$PYTHON" -c 'import torch' 2>/dev/null; then
  echo "bench/extract.sh: $PYTHON cannot import torch; install Debian's python3-torch or set PYTHON" >&2
  exit 2
fi

# shellcheck source=bench/lib.sh
source bench/lib.sh
CP="$(bench_classpath "$BUILD_DIR")"

# Java runs as ./timbre and the images run it, with their glibc malloc settings (docs/operations.md); the
# benchmark runs PyTorch both without and with them
export MALLOC_MMAP_THRESHOLD_=67108864 MALLOC_TRIM_THRESHOLD_=268435456 MALLOC_TOP_PAD_=67108864

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
JAVA=(java "${BENCH_JVM_FLAGS[@]}" -cp "$CP")

echo "Java: peak RSS for a ${LONG_SECONDS} s input (own JVM: the peak is per process) ..." >&2
"${JAVA[@]}" -Xmx1g dev.timbre.bench.ExtractionBenchmark --converter "$CONVERTER" \
  --peak-rss-seconds "$LONG_SECONDS" | grep '^{' > "$TMP/rss.json"

echo "PyTorch and Java, $ROUNDS alternating rounds of $REPS calls per clip ..." >&2
"${JAVA[@]}" dev.timbre.bench.ExtractionBenchmark --converter "$CONVERTER" --python "$PYTHON" \
  --reference infra/model/bench_reference.py --rounds "$ROUNDS" --reps "$REPS" --warmup "$WARMUP" \
  --rss-json "$TMP/rss.json" --docs docs/benchmarks.md \
  --command "bench/extract.sh (ROUNDS=$ROUNDS REPS=$REPS WARMUP=$WARMUP LONG_SECONDS=$LONG_SECONDS)"
