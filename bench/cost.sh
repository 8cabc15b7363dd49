#!/usr/bin/env bash
# Lambda cost model: memory size -> vCPUs -> worker threads -> cost per 1000 jobs per clip length,
# from the figures bench/efficiency.sh and bench/memory.sh wrote into docs/benchmarks.md (run those first;
# bench/all.sh does). Writes the cost section of docs/benchmarks.md.
#
#   bench/cost.sh              # OVERHEAD_MS=10 WAIT_MS=60 TIMBRE_BUILD_DIR=target-bench
set -euo pipefail
cd "$(dirname "$0")/.."
source infra/java/select-jdk.sh
BUILD_DIR="${TIMBRE_BUILD_DIR:-target-bench}"
OVERHEAD_MS="${OVERHEAD_MS:-10}"
WAIT_MS="${WAIT_MS:-60}"
mvn -q -Dtimbre.build.dir="$BUILD_DIR" -pl cli -am test-compile
java -cp "cli/$BUILD_DIR/test-classes" dev.timbre.bench.CostModel --docs docs/benchmarks.md \
  --overhead-ms "$OVERHEAD_MS" --wait-ms "$WAIT_MS" \
  --command "bench/cost.sh (OVERHEAD_MS=$OVERHEAD_MS WAIT_MS=$WAIT_MS)"
