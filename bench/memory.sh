#!/usr/bin/env bash
# Memory per worker thread: RSS with 1, 2, 4, 8 threads each holding its own converter over the
# shared weights, against the seed design (a full copy of the weights per thread, emulated in Java); each
# configuration in its own JVM. Writes the memory section of docs/benchmarks.md.
#
#   bench/memory.sh            # THREADS=1,2,4,8 CALLS=2 TIMBRE_BUILD_DIR=target-bench
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR="${TIMBRE_BUILD_DIR:-target-bench}"
THREADS="${THREADS:-1,2,4,8}"
CALLS="${CALLS:-2}"

# shellcheck source=bench/lib.sh
source bench/lib.sh
CP="$(bench_classpath "$BUILD_DIR")"

# The children get the same flags (the parent passes them on) and -Xmx512m, as a worker container would set.
java -Xmx256m "${BENCH_JVM_FLAGS[@]}" -cp "$CP" \
  dev.timbre.bench.MemoryBenchmark --threads "$THREADS" --calls "$CALLS" --java-options "-Xmx512m" \
  --docs docs/benchmarks.md --command "bench/memory.sh (THREADS=$THREADS CALLS=$CALLS)"
