#!/usr/bin/env bash
# One command: RabbitMQ -> ElasticMQ throughput of the Timbre bridge and of Apache Camel 4.17 (defaults and batch
# mode), same run, zero-loss check for each, bridge CPU and memory. Writes the bridge section of docs/benchmarks.md.
# Needs RabbitMQ on 127.0.0.1:5672 (guest/guest). Usage: bench/bridge.sh [messages]   (default 20000)
set -euo pipefail
cd "$(dirname "$0")/.."
source infra/java/select-jdk.sh
N="${1:-20000}"
BUILD=target-bridge
mvn -q -Dtimbre.build.dir="$BUILD" -pl bridge -am package -DskipTests
mvn -q -P bench -Dtimbre.build.dir="$BUILD" -pl bench/camel-baseline package -DskipTests
BRIDGE_CP="bridge/$BUILD/classes:bridge/$BUILD/lib/*"
CAMEL_CP="bench/camel-baseline/$BUILD/classes:bench/camel-baseline/$BUILD/lib/*"
exec java -Xmx1g -cp "$CAMEL_CP" dev.timbre.bench.BridgeBenchmark "$N" "$BRIDGE_CP" "$CAMEL_CP" \
  docs/benchmarks.md "bench/bridge.sh${1:+ $*}"
