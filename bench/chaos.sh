#!/usr/bin/env bash
# Chaos run (docs/reliability.md §1), loopback only and bounded: N small jobs plus bad-audio jobs, poison messages and
# messages no SQS request can carry, published to RabbitMQ, forwarded by a real bridge process into SQS (ElasticMQ)
# and taken by the real Lambda handler behind the local event-source mapping and a real ECS worker process, while a
# seeded schedule injects S3 503/refused/latency, Postgres connection kills and a closed database, Qdrant
# UNAVAILABLE and hanging upserts, the bridge's RabbitMQ connection closed and the broker unreachable, Lambda
# deadlines, and SIGKILLs of the bridge and the ECS worker. Prints the figures and, with --write, writes them as a
# markdown table. Exit status 0 only when nothing was lost, stuck or duplicated, RabbitMQ is empty and each
# dead-letter queue holds exactly its poison. Class: dev.timbre.chaos.ChaosRun in system-tests.
# Needs Postgres on 127.0.0.1:5432 (user postgres, trust) and RabbitMQ on 127.0.0.1:5672 (guest), like the tests.
#
#   bench/chaos.sh                                    # 200 jobs, 10 bad, 10 poison, 4 unsendable over 60 s, faults for 150 s, <= 480 s
#   bench/chaos.sh --jobs 1000 --seconds 1500 --write /tmp/chaos.md
#   bench/chaos.sh --no-ecs --jobs 50                 # Lambda side only
#   bench/chaos.sh --no-bridge                        # the producer sends straight to SQS
#   bench/chaos.sh --help                             # every flag (ChaosSettings.USAGE), without building
set -euo pipefail
cd "$(dirname "$0")/.."

for arg in "$@"; do
  if [ "$arg" = "--help" ] || [ "$arg" = "-h" ]; then
    # the flags as the Java side reads them, printed without a build: the USAGE lines of ChaosSettings
    sed -n '/String USAGE = String.join/,/--help  /p' system-tests/src/test/java/dev/timbre/chaos/ChaosSettings.java \
      | grep -o '"[^"]*"' | sed 's/^"//; s/"$//' | awk '/^ *--|^usage/ { if (line != "") print line; line = $0; next } line != "" { line = line $0 } END { print line }'
    exit 0
  fi
done

BUILD_DIR="${TIMBRE_BUILD_DIR:-target-bench-chaos}"
echo "building the modules, the bridge and system-tests test classes in */$BUILD_DIR ..." >&2
mvn -q -Dtimbre.build.dir="$BUILD_DIR" -pl system-tests -am test-compile >&2
CP="$PWD/system-tests/$BUILD_DIR/test-classes:$(cat "system-tests/$BUILD_DIR/test.classpath")"
# shellcheck source=bench/lib.sh
source bench/lib.sh # BENCH_JVM_FLAGS

# the working directory is system-tests/, as for the tests (fixture paths are relative to it): make --write absolute
ARGS=()
while [ $# -gt 0 ]; do
  if [ "$1" = "--write" ] && [ $# -gt 1 ]; then
    case "$2" in /*) ARGS+=("$1" "$2") ;; *) ARGS+=("$1" "$PWD/$2") ;; esac
    shift 2
  else
    ARGS+=("$1")
    shift
  fi
done
cd system-tests
exec java -Xmx2g "${BENCH_JVM_FLAGS[@]}" -Dai.djl.pytorch.graph_optimizer=false -cp "$CP" \
  dev.timbre.chaos.ChaosRun ${ARGS[@]+"${ARGS[@]}"}
