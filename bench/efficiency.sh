#!/usr/bin/env bash
# Extraction vs the machine's limit: analytic FLOPs of spectrogram + encoder per clip (3, 10, 30 s),
# the practical float32 peak (1024³ matmul through the same libtorch, 1 thread) measured in the same run, efficiency
# per clip, the previous tiling timed call for call against the current one, a per-layer conv profile, and
# extraction-only throughput at 1, 2, 4, 8 threads. Writes the efficiency section of docs/benchmarks.md.
#
#   bench/efficiency.sh        # ROUNDS=3 REPS=15 THREADS=1,2,4,8 JOBS=20 TIMBRE_BUILD_DIR=target-bench
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR="${TIMBRE_BUILD_DIR:-target-bench}"
ROUNDS="${ROUNDS:-3}"
REPS="${REPS:-15}"
THREADS="${THREADS:-1,2,4,8}"
JOBS="${JOBS:-20}"

# shellcheck source=bench/lib.sh
source bench/lib.sh
CP="$(bench_classpath "$BUILD_DIR")"

java -Xmx1g "${BENCH_JVM_FLAGS[@]}" -cp "$CP" \
  dev.timbre.bench.EfficiencyBenchmark --rounds "$ROUNDS" --reps "$REPS" --threads "$THREADS" --jobs "$JOBS" \
  --docs docs/benchmarks.md --command "bench/efficiency.sh (ROUNDS=$ROUNDS REPS=$REPS THREADS=$THREADS JOBS=$JOBS)"
