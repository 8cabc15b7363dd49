#!/usr/bin/env bash
# Worker throughput: jobs/s for 10 s clips through the real pipeline and the embedded servers, for the
# seed design (one job at a time) and the worker pool at 1, 2, 4, 8 threads; then again with 100 ms added to every
# S3 GET. Writes its section of docs/benchmarks.md (between the worker markers) and prints it.
# Needs Postgres on 127.0.0.1:5432 (user postgres, trust), like the tests.
#
#   bench/worker.sh                          # JOBS=20 THREADS=1,2,4,8 LATENCY_MS=100
#   JOBS=40 TIMBRE_BUILD_DIR=target-x bench/worker.sh
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR="${TIMBRE_BUILD_DIR:-target-bench-worker}"
JOBS="${JOBS:-20}"
THREADS="${THREADS:-1,2,4,8}"
LATENCY_MS="${LATENCY_MS:-100}"

# shellcheck source=bench/lib.sh
source bench/lib.sh
CP="$(bench_classpath "$BUILD_DIR")"

exec java -Xmx2g "${BENCH_JVM_FLAGS[@]}" -cp "$CP" \
  dev.timbre.bench.WorkerThroughputBenchmark --jobs "$JOBS" --threads "$THREADS" --latency-ms "$LATENCY_MS" \
  --docs docs/benchmarks.md --command "bench/worker.sh (JOBS=$JOBS THREADS=$THREADS LATENCY_MS=$LATENCY_MS)"
