#!/usr/bin/env bash
# Extraction benchmark (issue 2): Java (DJL/libtorch 2.7.1) vs PyTorch eager (Debian torch 1.13), 1 thread each,
# 3 s / 10 s / 30 s clips, same clips and converter, same run; plus peak RSS for a 600 s input.
# Writes its section of docs/benchmarks.md (between the extract markers) and prints a summary.
#
#   bench/extract.sh                      # REPS=30 WARMUP=5 by default
#   REPS=50 TIMBRE_BUILD_DIR=target-x bench/extract.sh
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR="${TIMBRE_BUILD_DIR:-target-bench}"
REPS="${REPS:-30}"
WARMUP="${WARMUP:-5}"
LONG_SECONDS="${LONG_SECONDS:-600}"
CONVERTER=infra/model/fixtures/converter
PYTHON=/usr/bin/python3 # Debian's Python: the only one that can import Debian's python3-torch

if ! "$PYTHON" -c 'import torch' 2>/dev/null; then
  echo "bench/extract.sh: $PYTHON cannot import torch; install Debian's python3-torch" >&2
  exit 2
fi

echo "building test classes in functions/$BUILD_DIR ..." >&2
mvn -q -Dtimbre.build.dir="$BUILD_DIR" -pl functions test-compile
CP_FILE="functions/$BUILD_DIR/bench.classpath"
if [ ! -s "$CP_FILE" ] || [ functions/pom.xml -nt "$CP_FILE" ] || [ pom.xml -nt "$CP_FILE" ]; then
  mvn -q -Dtimbre.build.dir="$BUILD_DIR" -pl functions dependency:build-classpath \
    -Dmdep.includeScope=test -Dmdep.outputFile="$PWD/$CP_FILE"
fi
CP="functions/$BUILD_DIR/test-classes:functions/$BUILD_DIR/classes:$(cat "$CP_FILE")"

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
cat > "$TMP/logback.xml" <<'XML'
<configuration>
  <appender name="ERR" class="ch.qos.logback.core.ConsoleAppender">
    <target>System.err</target>
    <encoder><pattern>%level %logger{0} - %msg%n</pattern></encoder>
  </appender>
  <root level="WARN"><appender-ref ref="ERR"/></root>
</configuration>
XML
JAVA=(java -Dlogback.configurationFile="$TMP/logback.xml" -Dai.djl.offline=true -DOPT_OUT_TRACKING=true
      -Dai.djl.pytorch.num_threads=1 -Dai.djl.pytorch.num_interop_threads=1 -cp "$CP")

echo "PyTorch reference ($REPS reps) ..." >&2
"$PYTHON" infra/model/bench_reference.py --converter "$CONVERTER" --reps "$REPS" --warmup "$WARMUP" \
  --write-wavs "$TMP/clips" --embed-out "$TMP/torch-embed.json" > "$TMP/torch.json"

echo "Java: peak RSS for a ${LONG_SECONDS} s input (own JVM) ..." >&2
"${JAVA[@]}" -Xmx1g dev.timbre.bench.ExtractionBenchmark --converter "$CONVERTER" \
  --peak-rss-seconds "$LONG_SECONDS" | grep '^{' > "$TMP/rss.json"

echo "Java ($REPS reps) ..." >&2
"${JAVA[@]}" dev.timbre.bench.ExtractionBenchmark --converter "$CONVERTER" --clips "$TMP/clips" \
  --torch-json "$TMP/torch.json" --torch-embed "$TMP/torch-embed.json" --rss-json "$TMP/rss.json" \
  --reps "$REPS" --warmup "$WARMUP" --docs docs/benchmarks.md --command "bench/extract.sh (REPS=$REPS WARMUP=$WARMUP)"
