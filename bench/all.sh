#!/usr/bin/env bash
# One command for every benchmark: runs each bench/*.sh below one after the other in this one run (never
# two at once: they would share the cores), skipping with a printed reason any script that is missing, then
# rewrites the header (machine, load, date, commit, command, what ran) and the goals table at the top of
# docs/benchmarks.md from the sections the scripts just wrote. A failing benchmark does not stop the others; the
# exit status is 1 if any failed.
#
#   bench/all.sh                     # every benchmark
#   ONLY="efficiency memory" bench/all.sh
#   TIMBRE_BUILD_DIR=target-x bench/all.sh   # build folder for the Java benchmarks (each script's default otherwise)
set -uo pipefail
cd "$(dirname "$0")/.."
source infra/java/select-jdk.sh

# Order: the pure-CPU benchmarks first, then the ones that need servers (RabbitMQ, Postgres).
ALL=(extract efficiency memory cost coldstart worker jobcost modes demo bridge)
read -r -a WANT <<< "${ONLY:-${ALL[*]}}"
COMMAND="bench/all.sh${ONLY:+ (ONLY=\"$ONLY\")}"
REPORT_BUILD_DIR="${TIMBRE_BUILD_DIR:-target-bench}"
LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"
COMMIT="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
if ! git diff --quiet HEAD -- embedded core lambda worker cli bridge bench 2>/dev/null; then
  COMMIT="$COMMIT (+ uncommitted changes)"
fi
LOGS="$(mktemp -d)"
RESULTS="$LOGS/results.tsv"
: > "$RESULTS"
FAILED=0

echo "bench/all.sh: ${WANT[*]} on $(nproc) CPUs, load average $LOAD_BEFORE, commit $COMMIT; logs in $LOGS" >&2
for name in "${WANT[@]}"; do
  script="bench/$name.sh"
  if [ ! -f "$script" ]; then
    echo "== $name: skipped, $script is missing" >&2
    printf '%s\tskipped\t\t%s is missing\n' "$name" "$script" >> "$RESULTS"
    continue
  fi
  echo "== $name: $script (load average $(cut -d' ' -f1-3 /proc/loadavg)) ..." >&2
  start=$(date +%s)
  bash "$script" > >(tee "$LOGS/$name.log") 2> >(tee "$LOGS/$name.err" >&2)
  rc=$?
  secs=$(( $(date +%s) - start ))
  if [ "$rc" -eq 0 ]; then
    printf '%s\tran\t%s\t\n' "$name" "$secs" >> "$RESULTS"
  else
    FAILED=1
    why="$(grep -v '^\s*$' "$LOGS/$name.err" | tail -1 | tr '\t|' '  ' | cut -c1-160)"
    echo "== $name: FAILED (exit $rc): $why" >&2
    printf '%s\tfailed (exit %s)\t%s\t%s\n' "$name" "$rc" "$secs" "${why:-see its log}" >> "$RESULTS"
  fi
done

for name in "${ALL[@]}"; do # sections this run left alone keep their earlier figures: say so
  if [[ " ${WANT[*]} " != *" $name "* ]]; then
    printf '%s\tnot run (ONLY)\t\tits section is from an earlier run\n' "$name" >> "$RESULTS"
  fi
done

echo "== report: header and goals of docs/benchmarks.md" >&2
mvn -q -Dtimbre.build.dir="$REPORT_BUILD_DIR" -pl cli -am test-compile || exit 2
java -cp "cli/$REPORT_BUILD_DIR/test-classes" dev.timbre.bench.BenchmarkReport --docs docs/benchmarks.md \
  --command "$COMMAND" --commit "$COMMIT" --load-before "$LOAD_BEFORE" --results "$RESULTS"
exit "$FAILED"
