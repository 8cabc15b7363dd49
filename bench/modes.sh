#!/usr/bin/env bash
# Embedding modes side by side: worker CPU per job, the extraction and the VAD's part, get-se vs extract-se, on
# one speech clip. Writes the modes section of docs/benchmarks.md and prints it.
# Needs Postgres on 127.0.0.1:5432 (user postgres, trust), like the tests.
#
#   bench/modes.sh            # JOBS=20
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR="${TIMBRE_BUILD_DIR:-target-bench-modes}"
JOBS="${JOBS:-20}"

# shellcheck source=bench/lib.sh
source bench/lib.sh
CP="$(bench_classpath "$BUILD_DIR")"

exec java -Xmx2g "${BENCH_JVM_FLAGS[@]}" --enable-native-access=ALL-UNNAMED -cp "$CP" \
  dev.timbre.bench.ModeCostBenchmark --jobs "$JOBS" --docs docs/benchmarks.md --command "bench/modes.sh (JOBS=$JOBS)"
