#!/usr/bin/env bash
# Cold start: process start -> handler ready -> first embedding in fresh JVMs, split into JVM,
# logging, configuration, connection pool, AWS clients, engine (natives pre-extracted) and weights; the launcher's
# classpath vs a jar with the JDK 25 AOT cache. Needs Postgres on 127.0.0.1:5432 (user postgres), like the tests.
# Writes the coldstart section of docs/benchmarks.md.
#
#   bench/coldstart.sh         # ROUNDS=3 TIMBRE_BUILD_DIR=target-bench
set -euo pipefail
cd "$(dirname "$0")/.."
source infra/java/select-jdk.sh

BUILD_DIR="${TIMBRE_BUILD_DIR:-target-bench}"
ROUNDS="${ROUNDS:-3}"
B="cli/$BUILD_DIR"      # the benchmark's own classes (dev.timbre.bench, cli's tests)
L="lambda/$BUILD_DIR"   # the function's layout, as lambda/Dockerfile copies it: classes + lib/* (core inside)

echo "building the function's layout in $L (classes + lib/*) and the test classes ..." >&2
mvn -q -DskipTests -pl lambda,cli -am package -Dtimbre.build.dir="$BUILD_DIR"
CP_FILE="$B/bench.classpath"
mvn -q -Dtimbre.build.dir="$BUILD_DIR" -pl cli -am test-compile dependency:build-classpath \
  -Dmdep.includeScope=test -Dmdep.outputFile="$BUILD_DIR/bench.classpath"
JAR="$(ls "$L"/timbre-lambda-*.jar | grep -v -- "-tests\.jar$" | head -1)" # not the test jar
mkdir -p "$B/coldstart"
(cd "$B/test-classes" && jar cf ../coldstart/coldstart.jar dev/timbre/bench/ColdStart.class)

# What the Lambda function gets: its configuration (local Postgres; AWS endpoints that are never called) and the
# image's JVM options (lambda/Dockerfile JAVA_TOOL_OPTIONS, ./timbre's JVM_OPTS).
export TIMBRE_S3_BUCKET=coldstart TIMBRE_DB_URL="${TIMBRE_DB_URL:-jdbc:postgresql://127.0.0.1:5432/postgres}" \
  TIMBRE_DB_USER="${TIMBRE_DB_USER:-postgres}" TIMBRE_DB_PASSWORD="${TIMBRE_DB_PASSWORD:-postgres}" \
  AWS_REGION=us-east-1 TIMBRE_CONVERTER_DIR=infra/model/fixtures/converter \
  TIMBRE_DLQ_URL=http://127.0.0.1:9/000000000000/dlq TIMBRE_QUEUE_URL=http://127.0.0.1:9/000000000000/jobs \
  AWS_ENDPOINT_URL=http://127.0.0.1:9 AWS_ACCESS_KEY_ID=coldstart AWS_SECRET_ACCESS_KEY=coldstart
# the images' (and the launcher's) glibc malloc settings
export MALLOC_MMAP_THRESHOLD_=67108864 MALLOC_TRIM_THRESHOLD_=268435456 MALLOC_TOP_PAD_=67108864
JVM_OPTS="-Dai.djl.offline=true -DOPT_OUT_TRACKING=true -Dai.djl.pytorch.num_threads=1 \
-Dai.djl.pytorch.num_interop_threads=1 -Dai.djl.pytorch.graph_optimizer=false -XX:+UseSerialGC --enable-native-access=ALL-UNNAMED"

java -cp "$B/test-classes:$B/classes:$(cat "$CP_FILE")" dev.timbre.bench.ColdStartBenchmark \
  --dir-cp "$B/coldstart/coldstart.jar:$L/classes:$L/lib/*" \
  --jar-cp "$B/coldstart/coldstart.jar:$JAR:$L/lib/*" \
  --archive "$B/coldstart/app.aot" --cache "$PWD/$B/coldstart/djl-cache" \
  --wav infra/model/fixtures/audio/c03_3s_22050_pcm24_mono.wav --jvm-options "$JVM_OPTS" --rounds "$ROUNDS" \
  --docs docs/benchmarks.md --command "bench/coldstart.sh (ROUNDS=$ROUNDS)"
