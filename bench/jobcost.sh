#!/usr/bin/env bash
# Cost per job, the worker alone: the ECS worker in its own JVM (1 thread, extract-se, Postgres store), S3Proxy and
# ElasticMQ (and the Qdrant double) in another, Postgres as a server; the worker's process CPU per job vs the
# extraction's CPU for the same clip, and the worker's per-stage times, for 3/10/30 s clips at 22.05 kHz, 10 s at
# 44.1 kHz, and 10 s with the Qdrant store (a second worker). Writes the jobcost
# section of docs/benchmarks.md and prints it. Needs Postgres on 127.0.0.1:5432 (user postgres, trust).
#
#   bench/jobcost.sh            # JOBS=300 WARMUP=1000, then rounds until the JIT is quiet (about 8 minutes)
#   WORKER_FLAGS="-XX:StartFlightRecording=filename=/tmp/worker.jfr" bench/jobcost.sh   # profile the worker
#   CLIPS="10 s, 22.05 kHz" bench/jobcost.sh   # only these clips (labels as in the table, ; between them)
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR="${TIMBRE_BUILD_DIR:-target-bench-jobcost}"
JOBS="${JOBS:-300}"
WARMUP="${WARMUP:-1000}"

# shellcheck source=bench/lib.sh
source bench/lib.sh
CP="$(bench_classpath "$BUILD_DIR")"
# the worker runs with the images' malloc settings (JobCostBenchmark sets them); so does the extraction measured here
export MALLOC_MMAP_THRESHOLD_=67108864 MALLOC_TRIM_THRESHOLD_=268435456 MALLOC_TOP_PAD_=67108864

# the child JVMs (worker, emulators) take this JVM's class path (ChildJvm)
exec java -Xmx2g "${BENCH_JVM_FLAGS[@]}" --enable-native-access=ALL-UNNAMED -cp "$CP" \
  dev.timbre.bench.JobCostBenchmark --jobs "$JOBS" --warmup "$WARMUP" --docs docs/benchmarks.md \
  --command "bench/jobcost.sh (JOBS=$JOBS WARMUP=$WARMUP)" ${WORKER_FLAGS:+--worker-flags "$WORKER_FLAGS"} ${CLIPS:+--clips "$CLIPS"}
